/** A check of a lab test failed: the message says what, as the lab's `t.Fatalf` would. */
export class LabError extends Error {
  override readonly name = 'LabError';
}
