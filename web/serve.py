#!/usr/bin/env python3
"""Static server for the built site: serve.py DIR PORT (127.0.0.1 only)."""
import functools, http.server, os, re, sys

d, port = sys.argv[1], int(sys.argv[2])
# The page's Content-Security-Policy, from its meta tag, also as a header: workers only get it this way.
# Read from web/index.html beside this script, so a site served under a sub-folder gets it too.
_page = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'index.html')).read()
CSP = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', _page).group(1)

class H(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      '.wasm': 'application/wasm', '.mjs': 'text/javascript', '.js': 'text/javascript'}
    def end_headers(self):
        self.send_header('Cache-Control', 'no-store')
        self.send_header('Content-Security-Policy', CSP)
        self.send_header('X-Content-Type-Options', 'nosniff')
        super().end_headers()
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(('127.0.0.1', port), functools.partial(H, directory=d)).serve_forever()
