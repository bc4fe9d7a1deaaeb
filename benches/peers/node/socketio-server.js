// Peer server: Socket.IO 4 with rooms, as its docs recommend: join the room
// from the handshake query, broadcast with io.to(room).emit (sender included,
// like peercircle). Plain ws engine with bufferutil/utf-8-validate when
// installed (the docs' performance tuning), no per-message deflate.
// Usage: node socketio-server.js [port]   (binds 127.0.0.1 only)
'use strict';
const { createServer } = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 9003);
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

io.on('connection', (socket) => {
  const room = socket.handshake.query.room || 'default';
  socket.join(room);
  socket.on('say', (text) => io.to(room).emit('said', text));
});

httpServer.listen(port, '127.0.0.1', () => console.error(`socket.io peer listening on 127.0.0.1:${port}`));
