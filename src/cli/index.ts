export { helpText } from './help.ts';
export { type Command, packageVersion, parseCommand } from './parse-command.ts';
