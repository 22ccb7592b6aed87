// The MicroPython VM (npm @micropython/micropython-webassembly-pyscript) as a test oracle.
// Reads one JSON object a line on stdin: {"id": ..., "code": "..."}; runs each code in a fresh global
// namespace and writes one JSON line back: {"id", "stdout", "error": null | {"type", "message"}}.
import { createInterface } from "node:readline";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

let out = [];
const mp = await loadMicroPython({
  linebuffer: false,
  stdout: (bytes) => { out.push(...bytes); },
  stderr: () => {},
});
const decoder = new TextDecoder();
mp.runPython("import sys\n_run_snippet = lambda src: exec(src, {'__name__': '__main__'})\n");
const run = mp.globals.get("_run_snippet");

function lastLine(text) {
  const lines = String(text).split("\n").filter((l) => l.trim() !== "");
  return lines.length ? lines[lines.length - 1] : "";
}

process.stdout.write(JSON.stringify({ ready: true, version: "1.27" }) + "\n");
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  out = [];
  let error = null;
  try {
    run(req.code);
  } catch (e) {
    const last = lastLine(e.message);
    const cut = last.indexOf(": ");
    error = cut === -1 ? { type: last.trim(), message: "" }
      : { type: last.slice(0, cut).trim(), message: last.slice(cut + 2) };
  }
  process.stdout.write(JSON.stringify({ id: req.id, stdout: decoder.decode(new Uint8Array(out)), error }) + "\n");
}
