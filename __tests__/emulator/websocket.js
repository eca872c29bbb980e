// The server side of RFC 6455, as small as the emulator needs: the opening handshake, text frames sent
// unmasked, client frames that must be masked, fragmented messages, ping/pong and the closing handshake.

import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'

/** The GUID RFC 6455 §1.3 appends to the client's key. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
/** Messages from the client larger than this close the connection with 1009 (the action sends none). */
const MAX_MESSAGE_BYTES = 1024 * 1024

const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa }

/** @param {string} key the client's Sec-WebSocket-Key */
export const acceptValue = (key) => createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64')

/**
 * Why a request cannot be upgraded, or undefined when it can (RFC 6455 §4.2.1).
 * @param {import('node:http').IncomingMessage} req
 * @returns {{status: number, reason: string, headers?: Record<string, string>} | undefined}
 */
export function handshakeProblem(req) {
  const header = (/** @type {string} */ name) => String(req.headers[name] ?? '')
  if (req.method !== 'GET') return { status: 405, reason: 'an upgrade must be a GET' }
  if (header('upgrade').toLowerCase() !== 'websocket') return { status: 400, reason: 'Upgrade is not websocket' }
  if (!header('connection').toLowerCase().split(/\s*,\s*/).includes('upgrade')) return { status: 400, reason: 'Connection lacks upgrade' }
  if (header('sec-websocket-version') !== '13') return { status: 426, reason: 'unsupported version', headers: { 'sec-websocket-version': '13' } }
  const key = header('sec-websocket-key')
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return { status: 400, reason: 'Sec-WebSocket-Key is not 16 bytes in base64' }
  return undefined
}

/**
 * Answers a raw HTTP response on a socket that asked for an upgrade and will not get one.
 * @param {import('node:stream').Duplex} socket @param {number} status @param {Record<string, string>} headers @param {string} body
 */
export function refuseUpgrade(socket, status, headers, body) {
  const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status)}`, `content-length: ${Buffer.byteLength(body)}`, 'connection: close']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
}

/** @param {number} status */
const reasonPhrase = (status) =>
  ({ 101: 'Switching Protocols', 301: 'Moved Permanently', 302: 'Found', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 426: 'Upgrade Required', 502: 'Bad Gateway' })[status] ?? 'Error'

/**
 * Completes the opening handshake of a valid upgrade request (check it with handshakeProblem first).
 * @param {import('node:http').IncomingMessage} req @param {import('node:stream').Duplex} socket @param {Buffer} head bytes read past the request head
 * @returns {WebSocketConnection}
 */
export function acceptUpgrade(req, socket, head) {
  const accept = acceptValue(String(req.headers['sec-websocket-key']))
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, '', ''].join('\r\n'))
  const connection = new WebSocketConnection(socket)
  if (head?.length) connection.receive(head)
  return connection
}

/**
 * One accepted connection. Events: 'message' (text of a complete message), 'close' (code, reason) once,
 * whichever side began it or when the TCP connection is gone.
 */
export class WebSocketConnection extends EventEmitter {
  /** @param {import('node:stream').Duplex} socket */
  constructor(socket) {
    super()
    this.socket = socket
    /** @type {'open' | 'closing' | 'closed'} */
    this.state = 'open'
    this.buffer = Buffer.alloc(0)
    /** @type {Buffer[]} fragments of a message in progress */
    this.fragments = []
    this.fragmentOpcode = 0
    this.closeSent = false
    /** A peer that never answers a close frame (a broken proxy): the client must not wait for it forever. */
    this.deaf = false
    socket.setNoDelay?.(true)
    socket.on('data', (chunk) => this.receive(chunk))
    socket.on('close', () => this.ended(1006, ''))
    socket.on('error', () => socket.destroy())
  }

  /** Sends one text message in a single unmasked frame. @param {string} text */
  send(text) {
    if (this.state !== 'open') return
    this.socket.write(frame(OPCODE.text, Buffer.from(text, 'utf8')))
  }

  /**
   * Begins the closing handshake; without a code the close frame has no body (the client then sees 1005).
   * @param {number} [code] @param {string} [reason]
   */
  close(code, reason = '') {
    if (this.state !== 'open') return
    this.state = 'closing'
    this.sendClose(code, reason)
    // a client that never answers the close frame is cut off
    setTimeout(() => this.socket.destroy(), 2000).unref()
  }

  /** Drops the TCP connection without a closing handshake (a crash, a proxy cutting it). */
  terminate() {
    this.socket.destroy()
  }

  /** @param {number|undefined} code @param {string} reason */
  sendClose(code, reason) {
    if (this.closeSent) return
    this.closeSent = true
    let body = Buffer.alloc(0)
    if (code !== undefined) {
      body = Buffer.alloc(2 + Buffer.byteLength(reason))
      body.writeUInt16BE(code, 0)
      body.write(reason, 2, 'utf8')
    }
    if (!this.socket.destroyed) this.socket.write(frame(OPCODE.close, body))
  }

  /** @param {number} code @param {string} reason */
  ended(code, reason) {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.emit('close', code, reason)
  }

  /** A protocol violation by the client: close with its code and drop the connection. @param {number} code @param {string} reason */
  fail(code, reason) {
    this.sendClose(code, reason)
    this.ended(code, reason)
    this.socket.end()
  }

  /** @param {Buffer} chunk */
  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk])
    for (;;) {
      const parsed = parseFrame(this.buffer)
      if (parsed === undefined) return
      if ('error' in parsed) return this.fail(parsed.code, parsed.error)
      this.buffer = this.buffer.subarray(parsed.length)
      this.handle(parsed)
      if (this.state === 'closed') return
    }
  }

  /** @param {{fin: boolean, opcode: number, payload: Buffer}} f */
  handle({ fin, opcode, payload }) {
    switch (opcode) {
      case OPCODE.ping:
        if (!this.closeSent) this.socket.write(frame(OPCODE.pong, payload))
        return
      case OPCODE.pong:
        return
      case OPCODE.close: {
        if (this.deaf) return
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : ''
        if (payload.length === 1) return this.fail(1002, 'a close body of one byte')
        // echo the client's close, then the TCP connection ends (the server closes it first, §7.1.1)
        this.sendClose(payload.length >= 2 ? code : undefined, '')
        this.ended(code, reason)
        this.socket.end()
        return
      }
      case OPCODE.text:
      case OPCODE.binary:
        if (this.fragments.length) return this.fail(1002, 'a new message inside a fragmented one')
        this.fragmentOpcode = opcode
        break
      case OPCODE.continuation:
        if (!this.fragments.length) return this.fail(1002, 'a continuation with no message to continue')
        break
      default:
        return this.fail(1002, `unknown opcode ${opcode}`)
    }
    this.fragments.push(payload)
    const size = this.fragments.reduce((sum, part) => sum + part.length, 0)
    if (size > MAX_MESSAGE_BYTES) return this.fail(1009, 'message too big')
    if (!fin) return
    const message = Buffer.concat(this.fragments)
    this.fragments = []
    if (this.state === 'open' && this.fragmentOpcode === OPCODE.text) this.emit('message', message.toString('utf8'))
  }
}

/**
 * One frame from the server: FIN set, never masked (RFC 6455 §5.1).
 * @param {number} opcode @param {Buffer} payload
 */
export function frame(opcode, payload) {
  const length = payload.length
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
  header[0] = 0x80 | opcode
  if (length < 126) header[1] = length
  else if (length < 65536) {
    header[1] = 126
    header.writeUInt16BE(length, 2)
  } else {
    header[1] = 127
    header.writeBigUInt64BE(BigInt(length), 2)
  }
  return Buffer.concat([header, payload])
}

/**
 * Parses the first client frame in `buffer`: undefined while it is incomplete, or the protocol error.
 * @param {Buffer} buffer
 * @returns {undefined | {error: string, code: number} | {fin: boolean, opcode: number, payload: Buffer, length: number}}
 */
export function parseFrame(buffer) {
  if (buffer.length < 2) return undefined
  const fin = (buffer[0] & 0x80) !== 0
  if (buffer[0] & 0x70) return { error: 'reserved bits set without an extension', code: 1002 }
  const opcode = buffer[0] & 0x0f
  const masked = (buffer[1] & 0x80) !== 0
  if (!masked) return { error: 'client frames must be masked', code: 1002 }
  let length = buffer[1] & 0x7f
  let offset = 2
  if (opcode >= 0x8 && (length > 125 || !fin)) return { error: 'a control frame must be whole and at most 125 bytes', code: 1002 }
  if (length === 126) {
    if (buffer.length < 4) return undefined
    length = buffer.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    if (buffer.length < 10) return undefined
    const big = buffer.readBigUInt64BE(2)
    if (big > BigInt(MAX_MESSAGE_BYTES)) return { error: 'frame too big', code: 1009 }
    length = Number(big)
    offset = 10
  }
  if (buffer.length < offset + 4 + length) return undefined
  const mask = buffer.subarray(offset, offset + 4)
  const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length))
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4]
  return { fin, opcode, payload, length: offset + 4 + length }
}
