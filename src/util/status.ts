// What every stage means by "accepted": a final answer of 2xx or 3xx (the request got through
// authentication; a 3xx redirect is not a refusal either).

export function isAcceptedStatus(status: number | null | undefined): boolean {
  return status != null && status >= 200 && status < 400;
}
