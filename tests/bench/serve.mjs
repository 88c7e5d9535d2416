// Static files for the benchmark pages: the repository (tests/node_modules, tests/bench, the build trees) and the
// Fashion-MNIST files under /data/, with the headers that make a page cross-origin isolated (SharedArrayBuffer,
// wasm threads, the 5 µs clock). Resolves to the listening server; its port is server.address().port.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
    '.json': 'application/json', '.onnx': 'application/octet-stream', '.gz': 'application/octet-stream', '.css': 'text/css' };

export function serveBench(root, dataDir) {
    const server = createServer((req, res) => {
        const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
        const file = url.startsWith('/data/') ? path.join(dataDir, url.slice(6)) : path.join(root, url);
        const ok = (file.startsWith(root) || file.startsWith(dataDir)) && existsSync(file) && statSync(file).isFile();
        const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
            'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
        if (!ok) { res.writeHead(404, headers); res.end('not found'); return; }
        res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
        res.end(readFileSync(file));
    });
    return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}
