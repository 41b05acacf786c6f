import { UserError } from '../../errors.ts';

/**
 * One line of a JSON-lines file as an object whose fields the caller checks; anything that is
 * not an object reads as {} so that the caller's "expected …" message names what is missing.
 */
export function parseJsonObjectLine(line: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UserError(`${where}: not valid JSON`);
  }
  return (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
}
