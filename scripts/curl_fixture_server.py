#!/usr/bin/env python3
"""Serves the misbehaviours the curl fixtures need, on 127.0.0.1 only:
PORT      HTTP: /unhealthy (200, status Unhealthy), /fail (500), /unavailable (503 JSON), /text (200 plain)
PORT+1    accepts, reads the request, closes without a reply (curl 52, empty reply)
PORT+2    accepts, reads, resets the connection (curl 56)
PORT+3    accepts and never answers (curl 28 with --max-time)
Stops by itself after 120 seconds."""
import http.server, json, socket, struct, sys, threading, time

port = int(sys.argv[1])

class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, kind="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/unhealthy":
            self.reply(200, json.dumps({"status": "Unhealthy"}))
        elif self.path == "/fail":
            self.reply(500, "internal error\n", "text/plain")
        elif self.path == "/unavailable":
            self.reply(503, json.dumps({"status": "Unavailable"}))
        elif self.path == "/text":
            self.reply(200, "OK\n", "text/plain")
        else:
            self.reply(404, "404 page not found\n", "text/plain")

    def log_message(self, *args):
        pass

def raw(offset, behaviour):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port + offset))
    listener.listen(8)
    def serve():
        while True:
            conn, _ = listener.accept()
            behaviour(conn)
    threading.Thread(target=serve, daemon=True).start()

def empty(conn):
    conn.recv(4096)
    conn.close()

def reset(conn):
    conn.recv(4096)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

held = []
def hang(conn):
    held.append(conn)

raw(1, empty)
raw(2, reset)
raw(3, hang)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(120)
