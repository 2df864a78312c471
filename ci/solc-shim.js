#!/usr/bin/env node
// A `solc` command-line front for the solcjs (WebAssembly) compiler, for forge.
//
// forge cannot download native solc here, so ci/bootstrap installs the npm `solc`
// package (pinned in ci/tools/package-lock.json) and writes a wrapper per version
// that runs this file. forge only needs two calls:
//   solc --version                      -> "Version: X.Y.Z+commit.H.Emscripten.clang"
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B]
//                                       -> standard JSON in on stdin, out on stdout
// Imports that forge did not already inline are read from disk, relative to the
// base path and include paths, never outside them (like solc's own file reader).
// Source texts forge inlines are handed over the same way (see below).
"use strict";

const fs = require("fs");
const path = require("path");

function fail(msg) {
  process.stderr.write(`solc-shim: ${msg}\n`);
  process.exit(1);
}

const solcModule = process.env.SOLC_SHIM_MODULE;
if (!solcModule) fail("SOLC_SHIM_MODULE must name the solc npm package directory");
const solc = require(solcModule);

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(
    `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`,
  );
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  fail(`only --version and --standard-json are supported, got: ${args.join(" ")}`);
}

// Collect the directories imports may be read from.
const roots = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const take = () => {
    if (i + 1 >= args.length) fail(`${a} needs a value`);
    return args[++i];
  };
  if (a === "--base-path" || a === "--include-path") roots.push(path.resolve(take()));
  else if (a === "--allow-paths") take().split(",").filter(Boolean).forEach((p) => roots.push(path.resolve(p)));
  else if (a.startsWith("--")) {
    // Flags forge may add that take no value here (e.g. --no-import-callback) are ignored.
  }
}
if (roots.length === 0) roots.push(process.cwd());

function within(root, file) {
  const rel = path.relative(root, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function findImports(importPath) {
  for (const root of roots) {
    const file = path.resolve(root, importPath);
    if (!within(root, file)) continue;
    try {
      return { contents: fs.readFileSync(file, "utf8") };
    } catch (_) {
      // try the next root
    }
  }
  return { error: `File not found in ${roots.join(", ")}: ${importPath}` };
}

const request = JSON.parse(fs.readFileSync(0, "utf8"));

// solcjs passes the standard-JSON input to the compiler through emscripten's ccall, which copies
// the string onto the WebAssembly stack (4 bytes per character). A project of a few MB of
// sources (forge-std's safeconsole.sol alone is 430 kB) overflows that stack and solcjs aborts
// with "RuntimeError: memory access out of bounds". So the sources travel by reference instead:
// each one's content is replaced by a `urls` entry naming it, and solc asks the import callback
// for it, which copies the text onto the heap. The compiled output is the same.
const contents = new Map();
for (const [name, source] of Object.entries(request.sources || {})) {
  if (typeof source.content === "string") {
    contents.set(name, source.content);
    const { content, ...rest } = source;
    request.sources[name] = { ...rest, urls: [name] };
  }
}

function serve(importPath) {
  if (contents.has(importPath)) return { contents: contents.get(importPath) };
  return findImports(importPath);
}

process.stdout.write(solc.compile(JSON.stringify(request), { import: serve }));
