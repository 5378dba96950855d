#!/usr/bin/env node
// Read a BPMN file the way Camunda Modeler opens it (bpmn-moddle + the
// camunda moddle extension) and write it back the way Modeler saves it
// (toXML with { format: true }).
//
// Usage: node roundtrip.mjs FILE
//
// stdout: the re-serialized XML.
// stderr: one JSON object per line for every import warning,
//         {"id": elementId|null, "name": elementName|null, "rule": "moddle-import",
//          "message": text, "severity": "error"}
//         (what the import dropped or could not type is lost on save).
// Exit codes: 0 written (warnings or not), 1 the file is not readable as BPMN
// (fatal parse error, message on stderr), 2 usage or internal error.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

import {
  TOOL_DIR,
  createModdle,
  importWarningToProblem,
  readConfig
} from './lint.mjs';

const USAGE = 'usage: node roundtrip.mjs FILE';

function fail(message, code = 2) {
  process.stderr.write(`roundtrip.mjs: ${ message }\n`);
  process.exit(code);
}

async function main() {
  const args = process.argv.slice(2);

  if (args.length !== 1 || args[0].startsWith('-')) {
    if (args[0] === '--help' || args[0] === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }

    fail(USAGE);
  }

  const file = args[0];

  // same moddle extensions as the linter uses
  const config = await readConfig(path.join(TOOL_DIR, '.bpmnlintrc'));
  const moddle = createModdle(config);

  let xml;

  try {
    xml = await readFile(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${ file }: ${ err.message }`);
  }

  let result;

  try {
    result = await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (err) {
    fail(`cannot import ${ file }: ${ String(err.message).split('\n')[0] }`, 1);
  }

  const { rootElement, warnings = [], elementsById = {} } = result;

  for (const warning of warnings) {
    process.stderr.write(JSON.stringify(importWarningToProblem(warning, xml, elementsById)) + '\n');
  }

  const { xml: out } = await moddle.toXML(rootElement, { format: true });

  process.stdout.write(out);
}

main().catch(err => fail(err && err.stack || String(err)));
