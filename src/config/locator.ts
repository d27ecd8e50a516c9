import type { ConfigPath, Place } from './issues.ts';

/* Where a configuration path is in its file, without the YAML parser (yaml-source.ts): issues are
 * located by the process that parsed the file, and the serving process only passes them on. */

/** Where an issue should point once the path is known. */
export type Target = 'key' | 'value';

export interface Located extends Place {
  /** False when `offset` was asked for but could not be mapped to the exact character. */
  readonly exact: boolean;
}

/**
 * Maps a config path back to a position in the source. `key` points at the key of the last
 * segment (for unknown keys), `value` at its value; a path that does not exist in the file (a
 * missing key) points at the deepest ancestor that does. `offset` is a character offset inside a
 * string scalar (a rule error), mapped to the exact line:col when the scalar is on one line.
 */
export type Locator = (path: ConfigPath, target?: Target, offset?: number) => Located;

export const noLocation: Locator = () => ({ exact: false });
