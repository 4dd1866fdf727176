// `assert` for circomlibjs in the browser (Node's module does not exist there).
export default function assert(condition, message) {
  if (!condition) throw new Error(message || "assertion failed");
}
