/** Postgres refuses NUL in text (and in jsonb strings); every other character it stores. */
export const NUL = '\u0000';

/** `text` with each NUL shown as `\u0000`: for messages that quote untrusted output and must be stored. */
export function escapeNul(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, '\\u0000') : text;
}
