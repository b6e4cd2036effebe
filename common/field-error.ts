/**
 * Bad input found below the api (a start point that does not exist…): it names the body field,
 * and the api answers it as the same 400 its schema validation gives.
 */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'FieldError';
  }
}
