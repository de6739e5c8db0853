/**
 * Detaches one empty ArrayBuffer when a thread loads the modules that detach buffers (a chunk's
 * buffers transferred to another thread, WebAssembly memory that grows).
 *
 * Why: until the first ArrayBuffer of a thread is detached, V8's optimising compiler leaves the
 * detached-buffer checks out of typed-array code and records that assumption (the "array buffer
 * detaching protector"). The first detach breaks it, and every optimised function that relied on
 * it is thrown away at once and compiled again. In a large append that first detach is the first
 * chunk handed to the encoder thread, just after the decoder, the builders and the statistics had
 * been optimised: all of them were compiled twice (`--trace-deopt`: 21 functions marked for
 * "code dependencies" at once; 234 against 166 ms of compiling on the 1M-line CoinGecko file).
 * Detaching a buffer before anything is optimised makes that happen when there is nothing to
 * throw away; the checks it brings back cost nothing measurable (README, "NDJSON to Delta").
 *
 * A module with no exports, imported for this effect: a thread evaluates it once.
 */
const empty = new ArrayBuffer(0);
structuredClone(empty, { transfer: [empty] });
