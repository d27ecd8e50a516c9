/**
 * Replaces every `${NAME}` in `text` with `vars[NAME]`. A placeholder without a value is an error,
 * not an empty string: a config that silently loses its certificate path would fail much later
 * and much less clearly.
 */
export function renderTemplate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return value;
  });
}
