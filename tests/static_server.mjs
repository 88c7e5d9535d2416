// The static server of the browser tests and the benchmark pages: files under `root` (and under each mount, e.g.
// { '/data/': dir }), with the headers `cairn serve` sets, so a page is cross-origin isolated as in production
// (SharedArrayBuffer, wasm threads, the 5 µs clock) and revalidates its cache as there (no-cache, an ETag of size
// and modification time, 304 when it matches). Resolves to { url, close() } once it listens on a free port.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
                '.css': 'text/css', '.csv': 'text/csv', '.json': 'application/json', '.ts': 'text/plain' };
const HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
                  'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-cache' };

export function serveStatic(root, { mounts = {} } = {}) {
    const server = http.createServer(async (req, res) => {
        // normalize() resolves '..' against the leading '/', so a path never climbs out of its folder.
        const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
        const mount = Object.keys(mounts).find((m) => path.startsWith(m));
        const file = mount ? join(mounts[mount], path.slice(mount.length)) : join(root, path.endsWith('/') ? path + 'index.html' : path);
        try {
            const st = await stat(file);
            const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
            if (req.headers['if-none-match'] === etag) { res.writeHead(304, { ...HEADERS, ETag: etag }).end(); return; }
            const body = await readFile(file);
            res.writeHead(200, { ...HEADERS, ETag: etag, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
            res.end(body);
        } catch {
            res.writeHead(404, HEADERS).end('not found');
        }
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    }));
}
