// The typed API: web/cairn.d.ts must be valid TypeScript that an application compiles against under `strict`, and
// it must describe what web/cairn.mjs really is. The declaration file is parsed with the TypeScript compiler and
// every declared method is looked up on live objects (and every public method of those objects in the
// declarations), so a method added, renamed or removed on one side only fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Cairn } from '../../build/wasm/web/cairn.mjs';

const ts = createRequire(import.meta.url)('typescript');
const dts = fileURLToPath(new URL('../../web/cairn.d.ts', import.meta.url));

// An application's use of the API, compiled against the declarations (never run): the calls of the README.
const app = `
import { Cairn, CairnError, type Model } from './cairn';
async function main(): Promise<number> {
    const cairn = await Cairn.open({ db: 'app' });
    const iris = cairn.datasets.bundled('iris');
    const run = cairn.train(iris, { model: 'mlp', epochs: 5, seed: 1, onProgress: (p) => console.log(p.epoch, p.loss) });
    const model: Model = await run;
    const keys: string[] = await cairn.kv.list('model/');
    const probs: Float32Array = model.predict([5.1, 3.5, 1.4, 0.2]);
    const { ref } = await cairn.registry.register(model, { name: 'iris' });
    await cairn.registry.promote(ref, 'production');
    const report = await cairn.registry.verify();
    if (!report.ok) throw new CairnError('integrity', report.problems.map((p) => p.message).join('; '));
    model.dispose();
    await cairn.close();
    return probs.length + report.damaged_versions + keys.length;
}
export { main };
`;

test('cairn.d.ts compiles, and an application using it type-checks under strict', () => {
    const appFile = fileURLToPath(new URL('../../web/__types_app__.ts', import.meta.url));
    const options = { noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
                      moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host), fileExists = host.fileExists.bind(host);
    host.readFile = (f) => (f === appFile ? app : readFile(f));
    host.fileExists = (f) => f === appFile || fileExists(f);
    const program = ts.createProgram([dts, appFile], options, host);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    assert.deepEqual(problems, []);
});

// Declared member names per class or interface: methods, and properties (readonly fields, getters).
function declarations() {
    const source = ts.createSourceFile(dts, readFileSync(dts, 'utf8'), ts.ScriptTarget.ES2022, true);
    const out = {};
    for (const node of source.statements) {
        if (!ts.isClassDeclaration(node) && !ts.isInterfaceDeclaration(node)) continue;
        const methods = new Set(), properties = new Set(), statics = new Set();
        for (const m of node.members) {
            if (!m.name || !ts.isIdentifier(m.name)) continue;
            const isStatic = m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword);
            if (isStatic) statics.add(m.name.text);
            else if (ts.isMethodDeclaration(m) || ts.isMethodSignature(m)) methods.add(m.name.text);
            else properties.add(m.name.text);
        }
        const base = node.heritageClauses?.flatMap((h) => h.types.map((t) => t.expression.getText(source)))[0];
        out[node.name.text] = { methods, properties, statics, base };
    }
    return out;
}

// Every declared method of `name` (with its declared bases) is a function on `obj`, every declared property is
// there, and every public method `obj` has (own class and bases, up to the platform's) is declared.
function conforms(decl, name, obj, stopAt = Object.prototype) {
    const declared = { methods: new Set(), properties: new Set() };
    for (let n = name; decl[n]; n = decl[n].base) {
        decl[n].methods.forEach((m) => declared.methods.add(m));
        decl[n].properties.forEach((p) => declared.properties.add(p));
    }
    const problems = [];
    for (const m of declared.methods) if (typeof obj[m] !== 'function') problems.push(`${name}.${m}() is declared but not a function`);
    for (const p of declared.properties) if (!(p in obj)) problems.push(`${name}.${p} is declared but missing`);
    for (let proto = Object.getPrototypeOf(obj); proto && proto !== stopAt && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const key of Object.getOwnPropertyNames(proto)) {
            if (key === 'constructor' || key.startsWith('_')) continue;
            const d = Object.getOwnPropertyDescriptor(proto, key);
            if (typeof d.value === 'function' && !declared.methods.has(key)) problems.push(`${name}.${key}() exists but is not declared`);
            if (d.get && !declared.properties.has(key)) problems.push(`${name}.${key} (getter) exists but is not declared`);
        }
    }
    // Interfaces are plain objects: their own function-valued fields are their methods.
    if (Object.getPrototypeOf(obj) === Object.prototype)
        for (const [key, v] of Object.entries(obj))
            if (typeof v === 'function' && !key.startsWith('_') && !declared.methods.has(key)) problems.push(`${name}.${key}() exists but is not declared`);
    return problems;
}

test('every declared class and interface member exists at run time, and every public method is declared', async () => {
    const decl = declarations();
    for (const n of ['Cairn', 'Model', 'Dataset', 'TrainingRun', 'Registry', 'Datasets', 'CairnError']) assert.ok(decl[n], `${n} not declared`);
    assert.deepEqual([...decl.Cairn.statics].sort(), Object.getOwnPropertyNames(Cairn).filter((k) => typeof Cairn[k] === 'function').sort());

    const cairn = await Cairn.open({ db: 'types', indexedDB: new IDBFactory(), IDBKeyRange });
    const iris = cairn.datasets.bundled('iris');
    const run = cairn.train(iris, { model: 'mlp', epochs: 2, seed: 1 });
    const model = await run;
    const problems = [
        ...conforms(decl, 'Cairn', cairn, EventTarget.prototype),
        ...conforms(decl, 'Registry', cairn.registry),
        ...conforms(decl, 'Datasets', cairn.datasets),
        ...conforms(decl, 'Dataset', iris),
        ...conforms(decl, 'TrainingRun', run),
        ...conforms(decl, 'Model', model),
    ];
    assert.deepEqual(problems, []);
    model.dispose();
    iris.dispose();
    await cairn.close();
});
