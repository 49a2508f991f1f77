/** A NIK or KK number is 16 digits; any run of 16 or more digits (any script) is refused. */
const SIXTEEN_DIGITS = /\p{Nd}{16}/u;

/** Upper bound on nodes visited: a 256 KiB body cannot legitimately hold more. */
const MAX_NODES = 300_000;

/**
 * Whether any string in a parsed JSON value (values and object keys alike) contains a
 * 16-digit run. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function containsNikLike(value: unknown): boolean {
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length > 0) {
    const node = stack.pop();
    if (++visited > MAX_NODES) return true;
    if (typeof node === 'string') {
      if (node.length >= 16 && SIXTEEN_DIGITS.test(node)) return true;
    } else if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        if (key.length >= 16 && SIXTEEN_DIGITS.test(key)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}
