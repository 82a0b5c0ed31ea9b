// docs/reference.md, generated from the code so it cannot drift: the options of createValet,
// s3(), azure(), createUploader and upload() from their TypeScript types (name, type, TSDoc text,
// `@default`), the CLI flags from each command's --help, and the error codes from @valet/protocol
// (code, HTTP status). Only the error codes' "meaning" column is written by hand, in the file
// itself; a code without one fails the check.
//
//   node scripts/reference.mjs          rewrite the generated tables in docs/reference.md
//   node scripts/reference.mjs --check  exit 1 when docs/reference.md differs (pnpm test runs this)
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
// VALET_REFERENCE_DOC: another copy to check (the test proves the check fails on drift).
const DOC = process.env.VALET_REFERENCE_DOC ?? `${ROOT}docs/reference.md`
const src = (p) => `${ROOT}packages/${p}`

const config = ts.getParsedCommandLineOfConfigFile(`${ROOT}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
const entries = ['server/src/index.ts', 'server/src/s3/index.ts', 'server/src/azure/index.ts', 'client/src/index.node.ts', 'client/src/index.browser.ts', 'protocol/src/index.ts'].map(src)
const cliHelp = ['cli/src/dev-args.ts', 'cli/src/upload-args.ts', 'cli/src/download-args.ts', 'cli/src/doctor-args.ts'].map(src)
const program = ts.createProgram([...entries, ...cliHelp], config.options)
const checker = program.getTypeChecker()

function exported(file, name) {
  const sf = program.getSourceFile(file)
  const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)).find((s) => s.name === name)
  if (!symbol) throw new Error(`${file} does not export ${name}`)
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
}

const cell = (text) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim()

/** The properties of a type as table rows: option, type, default, what it does. */
function optionRows(type) {
  return checker.getPropertiesOfType(type).map((p) => {
    const decl = p.valueDeclaration ?? p.declarations?.[0]
    const optional = (p.flags & ts.SymbolFlags.Optional) !== 0
    const tags = p.getJsDocTags(checker)
    const tagText = (name) => tags.filter((t) => t.name === name).map((t) => ts.displayPartsToString(t.text)).join(' ')
    const fallback = tagText('default')
    const doc = ts.displayPartsToString(p.getDocumentationComment(checker))
    let typeText = checker.typeToString(checker.getTypeOfSymbolAtLocation(p, decl), undefined, ts.TypeFormatFlags.NoTruncation)
    if (optional) typeText = typeText.replace(/ \| undefined$/, '')
    return `| \`${p.name}\` | \`${cell(typeText)}\` | ${optional ? cell(fallback) || '—' : '**required**'} | ${cell(doc)} |`
  })
}

function paramType(fn, index = 0) {
  const type = checker.getTypeOfSymbol(fn)
  const signature = type.getCallSignatures()[0]
  return checker.getTypeOfSymbol(signature.getParameters()[index])
}

const header = '| option | type | default | what it does |\n|---|---|---|---|'
const table = (rows) => `${header}\n${rows.join('\n')}`

function uploadOptionsType(method = 'upload') {
  const uploader = checker.getReturnTypeOfSignature(checker.getTypeOfSymbol(exported(src('client/src/index.node.ts'), 'createUploader')).getCallSignatures()[0])
  const upload = checker.getTypeOfSymbol(uploader.getProperty(method))
  const param = upload.getCallSignatures()[0].getParameters()[1]
  return checker.getNonNullableType(checker.getTypeOfSymbol(param))
}

function downloadOptionsType() {
  return checker.getDeclaredTypeOfSymbol(exported(src('client/src/index.node.ts'), 'DownloadOptions'))
}

/** A command's options from its help text: flag lines and their continuation lines. */
function flagRows(file, constant) {
  const sf = program.getSourceFile(file)
  let help
  sf.forEachChild(function visit(node) {
    if (ts.isVariableDeclaration(node) && node.name.getText(sf) === constant && node.initializer && ts.isNoSubstitutionTemplateLiteral(node.initializer)) help = node.initializer.text
    node.forEachChild(visit)
  })
  if (help === undefined) throw new Error(`${file}: no ${constant}`)
  const lines = help.split('\n')
  const start = lines.indexOf('Options:') + 1
  const rows = []
  for (const line of lines.slice(start)) {
    if (line.trim() === '') break
    const m = /^ {2}((?:-\w, )?--[\w-]+(?: (?:"[^"]*"|\S+))?)\s{2,}(.*)$/.exec(line)
    if (m) rows.push([m[1], m[2]])
    else if (rows.length > 0) rows[rows.length - 1][1] += ` ${line.trim()}`
  }
  return `| flag | what it does (default) |\n|---|---|\n${rows.map(([flag, text]) => `| \`${flag}\` | ${cell(text)} |`).join('\n')}`
}

/** Error codes: generated code and status, the hand-written meaning kept from the current file. */
function errorRows(current) {
  const protocol = src('protocol/src/errors.ts')
  const sf = program.getSourceFile(protocol)
  const wire = []
  const client = []
  sf.forEachChild(function visit(node) {
    if (ts.isVariableDeclaration(node) && node.initializer) {
      const init = ts.isAsExpression(node.initializer) ? node.initializer.expression : node.initializer
      const name = node.name.getText(sf)
      if (name === 'errorStatus' && ts.isObjectLiteralExpression(init)) {
        for (const p of init.properties) wire.push([p.name.getText(sf), p.initializer.getText(sf)])
      }
      if (name === 'clientErrorCodes' && ts.isArrayLiteralExpression(init)) {
        for (const e of init.elements) client.push([e.text, '— (client only)'])
      }
    }
    node.forEachChild(visit)
  })
  const meaning = new Map()
  for (const m of current.matchAll(/^\| `([a-z_]+)` \| [^|]+ \| (.*) \|$/gm)) meaning.set(m[1], m[2])
  const missing = []
  const rows = [...wire, ...client].map(([code, status]) => {
    const text = meaning.get(code)
    if (!text || text === 'TODO: say what it means') missing.push(code)
    return `| \`${code}\` | ${status} | ${text ?? 'TODO: say what it means'} |`
  })
  return { text: `| code | HTTP status | meaning |\n|---|---|---|\n${rows.join('\n')}`, missing }
}

const current = readFileSync(DOC, 'utf8')
const errors = errorRows(current)
const sections = {
  createValet: table(optionRows(paramType(exported(src('server/src/index.ts'), 'createValet')))),
  s3: table(optionRows(paramType(exported(src('server/src/s3/index.ts'), 's3')))),
  azure: table(optionRows(paramType(exported(src('server/src/azure/index.ts'), 'azure')))),
  createUploader: table(optionRows(paramType(exported(src('client/src/index.node.ts'), 'createUploader')))),
  upload: table(optionRows(uploadOptionsType())),
  uploadMany: table(optionRows(uploadOptionsType('uploadMany'))),
  createDownloader: table(optionRows(paramType(exported(src('client/src/index.node.ts'), 'createDownloader')))),
  download: table(optionRows(downloadOptionsType())),
  'valet-dev': flagRows(src('cli/src/dev-args.ts'), 'DEV_HELP'),
  'valet-upload': flagRows(src('cli/src/upload-args.ts'), 'UPLOAD_HELP'),
  'valet-download': flagRows(src('cli/src/download-args.ts'), 'DOWNLOAD_HELP'),
  'valet-doctor': flagRows(src('cli/src/doctor-args.ts'), 'DOCTOR_HELP'),
  errors: errors.text,
}

let next = current
for (const [name, body] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`)
  if (!re.test(next)) throw new Error(`docs/reference.md has no <!-- generated:${name} --> … <!-- /generated:${name} --> block`)
  next = next.replace(re, (_, open, close) => `${open}\n${body}\n${close}`)
}

if (process.argv.includes('--check')) {
  const problems = []
  if (next !== current) problems.push('docs/reference.md is out of date with the code: run `node scripts/reference.mjs` and commit it')
  if (errors.missing.length > 0) problems.push(`docs/reference.md: write the meaning of ${errors.missing.join(', ')} in the error table`)
  if (problems.length > 0) {
    console.error(problems.join('\n'))
    process.exit(1)
  }
  console.log('docs/reference.md matches the code')
} else {
  writeFileSync(DOC, next)
  if (errors.missing.length > 0) console.error(`write the meaning of ${errors.missing.join(', ')} in docs/reference.md`)
}
