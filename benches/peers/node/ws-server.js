// Peer server: `ws` (Node) broadcast to a room, the way the ws README's
// "Server broadcast" example does it, with rooms keyed by ?room=.
// Usage: node ws-server.js [port]   (binds 127.0.0.1 only)
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 9002);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
const rooms = new Map();

wss.on('connection', (ws, req) => {
  const room = new URL(req.url, 'http://localhost').searchParams.get('room') || 'default';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    for (const client of members) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => members.delete(ws));
});
wss.on('listening', () => console.error(`ws peer listening on 127.0.0.1:${port}`));
