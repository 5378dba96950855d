#!/usr/bin/env node
// Lint BPMN files with the toolchain Camunda Modeler is built on:
// bpmn-moddle + camunda-bpmn-moddle (to read the XML) and bpmnlint with the
// rules configured in ./.bpmnlintrc (bpmnlint:recommended + camunda-compat).
//
// Usage: node lint.mjs [--config .bpmnlintrc] FILE...
//
// Prints ONE JSON document on stdout:
//   {"files": [{"file": FILE, "problems": [
//     {"id": elementId|null, "name": elementName|null, "rule": ruleName,
//      "message": text, "severity": "error"|"warning"|"info"}]}]}
//
// XML import warnings from moddle (unknown attributes / elements, bad
// references, duplicate ids) are reported with rule "moddle-import", a file
// that cannot be read as BPMN at all with rule "moddle-parse"; both are errors.
// Exit code 0 whenever the JSON document was produced (even with problems),
// 2 on usage or internal errors (message on stderr, nothing on stdout).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';

const require = createRequire(import.meta.url);

/** Folder of this script: rules, configs and moddle extensions resolve here. */
export const TOOL_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Always loaded, whatever the config says: reformflow models Camunda 7. */
const DEFAULT_EXTENSIONS = {
  camunda: 'camunda-bpmn-moddle/resources/camunda.json'
};

// bpmnlint is CommonJS; its resolver is not re-exported from the main entry.
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

const USAGE = 'usage: node lint.mjs [--config .bpmnlintrc] FILE...';

/**
 * Read a .bpmnlintrc (JSON).
 *
 * @param {string} configPath
 * @return {Promise<object>}
 */
export async function readConfig(configPath) {
  let text;

  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read lint config ${ configPath }: ${ err.message }`);
  }

  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot parse lint config ${ configPath }: ${ err.message }`);
  }
}

/**
 * A BpmnModdle with the camunda extension (and any other `moddleExtensions`
 * the config names, resolved from this folder's node_modules), i.e. what
 * Camunda Modeler uses to read and write Camunda 7 diagrams.
 *
 * @param {object} [config]
 */
export function createModdle(config = {}) {
  const names = { ...DEFAULT_EXTENSIONS, ...(config.moddleExtensions || {}) };
  const extensions = {};

  for (const [ prefix, modulePath ] of Object.entries(names)) {
    try {
      extensions[prefix] = require(modulePath);
    } catch (err) {
      throw new Error(`cannot load moddle extension <${ prefix }> from ${ modulePath }: ${ err.message }`);
    }
  }

  return new BpmnModdle(extensions);
}

/**
 * Nearest element (self or ancestor, via $parent) that is a BPMN element
 * with an id, so warnings on e.g. a camunda:formField point at its task.
 */
function nearestBpmnElement(element) {
  for (let el = element; el; el = el.$parent) {
    const isBpmn = typeof el.$instanceOf === 'function' && el.$instanceOf('bpmn:BaseElement');

    if (isBpmn && el.id) {
      return el;
    }

    // DI elements (bpmndi:BPMNShape ...) have ids but are no bpmn:BaseElement
    if (el.$type && el.$type.startsWith('bpmndi:') && el.id) {
      return el;
    }
  }

  return null;
}

const BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';

/** Absolute character offset of a 0-based (line, column) position. */
function offsetOf(xml, line, column) {
  let offset = 0;

  for (let l = 0; l < line; l++) {
    const nl = xml.indexOf('\n', offset);

    if (nl === -1) {
      break;
    }

    offset = nl + 1;
  }

  return offset + column;
}

/**
 * Scan the XML text up to 0-based (line, column) and return the stack of
 * elements open there, innermost last, each as { tag, ns, nsmap, id, name, start }.
 * A tiny tokenizer: enough to place moddle's "unparsable content" warnings,
 * which carry a position but no element.
 */
export function openElementsAt(xml, line, column) {
  const offset = offsetOf(xml, line, column);

  const stack = [];
  const tagRe = /<(\/?)([^\s/>!?]+)([^>]*?)(\/?)>/y;
  const attrRe = /([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

  let pos = 0;

  while (pos <= offset && pos < xml.length) {
    const lt = xml.indexOf('<', pos);

    if (lt === -1 || lt > offset) {
      break;
    }

    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      pos = end === -1 ? xml.length : end + 3;
      continue;
    }

    if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      pos = end === -1 ? xml.length : end + 3;
      continue;
    }

    if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      const end = xml.indexOf('>', lt + 2);
      pos = end === -1 ? xml.length : end + 1;
      continue;
    }

    tagRe.lastIndex = lt;
    const m = tagRe.exec(xml);

    if (!m) {
      pos = lt + 1;
      continue;
    }

    const [ , closing, tag, attrText, selfClosing ] = m;

    if (closing) {
      const idx = stack.map(e => e.tag).lastIndexOf(tag);

      if (idx !== -1) {
        stack.length = idx;
      }
    } else {
      const attrs = {};

      for (const a of attrText.matchAll(attrRe)) {
        attrs[a[1]] = a[3] !== undefined ? a[3] : a[4];
      }

      // namespace declarations in scope, to tell bpmn:* from camunda:* elements
      const nsmap = { ...(stack.length ? stack[stack.length - 1].nsmap : {}) };

      for (const [ attr, value ] of Object.entries(attrs)) {
        if (attr === 'xmlns') {
          nsmap[''] = value;
        } else if (attr.startsWith('xmlns:')) {
          nsmap[attr.slice(6)] = value;
        }
      }

      const colon = tag.indexOf(':');
      const prefix = colon === -1 ? '' : tag.slice(0, colon);

      const entry = { tag, ns: nsmap[prefix], nsmap, id: attrs.id, name: attrs.name, start: lt };

      // an element that starts exactly at the position counts as open there
      if (!selfClosing || lt === offset) {
        stack.push(entry);
      }
    }

    pos = tagRe.lastIndex;
  }

  return stack;
}

const XML_ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

function unescapeXml(text) {
  return text === undefined ? undefined : text.replace(/&(lt|gt|amp|quot|apos);/g, e => XML_ENTITIES[e]);
}

/**
 * Turn a moddle import warning into a lint problem (rule "moddle-import").
 *
 * @param {{ message: string, element?: object, property?: string, value?: any }} warning
 * @param {string} xml the document text (to place position-only warnings)
 * @param {Record<string, object>} elementsById
 */
export function importWarningToProblem(warning, xml, elementsById) {
  const raw = String(warning.message || warning);
  const lines = raw.split('\n').map(l => l.trim()).filter(Boolean);

  let id = null;
  let name = null;
  let message = lines[0];

  if (warning.element) {
    const target = nearestBpmnElement(warning.element);

    if (target) {
      id = target.id;
      name = elementName(target);
    }

    if (target !== warning.element && warning.element.$type) {
      message += ` on <${ warning.element.$type }${ warning.element.id ? ' id="' + warning.element.id + '"' : '' }>`;
    }
  }

  const lineMatch = /line: (\d+)/.exec(raw);
  const columnMatch = /column: (\d+)/.exec(raw);
  const nested = /nested error: (.*)/.exec(raw);

  if (lineMatch && columnMatch) {
    const line = Number(lineMatch[1]);
    const column = Number(columnMatch[1]);

    message += ` (line ${ line + 1 }, column ${ column + 1 })`;

    if (nested) {
      message += `: ${ nested[1] }`;
    }

    if (/^unparsable content/.test(lines[0])) {
      message += '; the content is dropped on import, Camunda Modeler would lose it on save';
    }

    if (id === null) {
      const stack = openElementsAt(xml, line, column);
      const self = stack.length ? stack[stack.length - 1] : null;

      const selfIsAt = self && self.start === offsetOf(xml, line, column);

      if (selfIsAt && self.id) {
        message = message.replace(`<${ self.tag }>`, `<${ self.tag } id="${ unescapeXml(self.id) }">`);
      }

      // the unparsable element itself, if it is a BPMN element with an id ...
      if (selfIsAt && self.id && self.ns === BPMN_NS && !(unescapeXml(self.id) in elementsById)) {
        id = unescapeXml(self.id);
        name = unescapeXml(self.name) ?? null;
      } else {

        // ... else the innermost imported element around it
        for (let i = stack.length - 1; i >= 0; i--) {
          const candidate = unescapeXml(stack[i].id);

          if (candidate && candidate in elementsById) {
            id = candidate;
            name = elementName(elementsById[candidate]);
            break;
          }
        }
      }
    }
  }

  return {
    id,
    name,
    rule: 'moddle-import',
    message,
    severity: 'error'
  };
}

/**
 * At most this many import warnings are placed and reported per file, then one line says how
 * many more there were: placing a warning scans the text up to it, so 20 000 unknown elements
 * took 90 s (and `reformflow check` gives up after 60 s).
 */
export const MAX_IMPORT_WARNINGS = 100;

function importProblems(warnings, xml, elementsById) {
  const problems = warnings.slice(0, MAX_IMPORT_WARNINGS).map(w => importWarningToProblem(w, xml, elementsById));

  if (warnings.length > MAX_IMPORT_WARNINGS) {
    problems.push({
      id: null,
      name: null,
      rule: 'moddle-import',
      message: `${ warnings.length - MAX_IMPORT_WARNINGS } more import warnings like these are not listed`,
      severity: 'error'
    });
  }

  return problems;
}

const SEVERITY = {
  error: 'error',
  warn: 'warning',
  info: 'info',
  'rule-error': 'error'
};

function fail(message) {
  process.stderr.write(`lint.mjs: ${ message }\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const files = [];
  let configPath = path.join(TOOL_DIR, '.bpmnlintrc');

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];

    if (arg === '--config' || arg === '-c') {
      if (i + 1 >= argv.length) {
        fail(`${ arg } needs a path\n${ USAGE }`);
      }
      configPath = argv[++i];
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (arg === '--') {
      files.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith('-') && arg !== '-') {
      fail(`unknown option ${ arg }\n${ USAGE }`);
    } else {
      files.push(arg);
    }
  }

  if (!files.length) {
    fail(`no BPMN file given\n${ USAGE }`);
  }

  return { files, configPath };
}

function elementName(element) {
  if (!element || typeof element.get !== 'function') {
    return null;
  }

  let name;

  try {
    name = element.get('name');
  } catch (err) {
    name = undefined;
  }

  return typeof name === 'string' ? name : null;
}

async function lintFile(file, { linter, moddle }) {
  let xml;

  try {
    xml = await readFile(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${ file }: ${ err.message }`);
  }

  const problems = [];

  let result;

  try {
    result = await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (err) {

    // fatal: not XML, not a bpmn:definitions document, ...
    problems.push(...importProblems(err.warnings || [], xml, {}));

    problems.push({
      id: null,
      name: null,
      rule: 'moddle-parse',
      message: 'Parse error: ' + String(err.message).split('\n')[0],
      severity: 'error'
    });

    return { file, problems };
  }

  const { rootElement, warnings = [], elementsById = {} } = result;

  problems.push(...importProblems(warnings, xml, elementsById));

  const reportsByRule = await linter.lint(rootElement);

  for (const [ rule, reports ] of Object.entries(reportsByRule)) {
    for (const report of reports) {
      const id = report.id === undefined ? null : report.id;
      const severity = SEVERITY[report.category] || 'error';

      let message = report.message;

      if (report.category === 'rule-error') {
        message = `rule <${ rule }> failed: ${ message }`;
      }

      problems.push({
        id,
        name: id === null ? null : elementName(elementsById[id]),
        rule,
        message,
        severity
      });
    }
  }

  return { file, problems };
}

async function main() {
  const { files, configPath } = parseArgs(process.argv.slice(2));

  const config = await readConfig(configPath);

  const out = { files: [] };

  for (const file of files) {
    // A fresh linter and moddle per file: bpmnlint rules keep state in their instances (e.g.
    // no-duplicate-sequence-flows remembers every source#target it saw), so one linter over
    // several files reports a flow in one file as a duplicate of a flow in another.
    // Rules and configs (bpmnlint:*, plugin:camunda-compat/*) resolve from this folder.
    const linter = new Linter({ config, resolver: new NodeResolver({ require }) });
    out.files.push(await lintFile(file, { linter, moddle: createModdle(config) }));
  }

  process.stdout.write(JSON.stringify(out) + '\n');
}

// run only when executed (roundtrip.mjs imports the helpers above)
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch(err => fail(err && err.stack || String(err)));
}
