// The public surface of the peer transport: the TCP transport the node uses, and the wire codec
// (frames, messages, handshake) for tools that speak or inspect the protocol, such as a framing proxy.

export {
  decodeHandshake,
  decodeMessage,
  encodeFrame,
  encodeHandshakeFrame,
  encodeMessage,
  FRAME_BYTES_LIMIT,
  FRAME_BYTES_MAX_DEFAULT,
  FRAME_HEADER_BYTES,
  FrameReader,
  FrameReaderOptionsError,
  isDecodeError,
  PROTOCOL_MAGIC,
  PROTOCOL_VERSION,
  type DecodeError,
  type FrameReaderOptions,
  type FrameReaderResult,
  type Handshake,
} from './codec.js';
export type { LinkState } from './outbound-link.js';
export {
  TcpTransport,
  TcpTransportListenError,
  TcpTransportOptionsError,
  type PeerAddress,
  type TcpTransportOptions,
  type TcpTransportStats,
} from './tcp-transport.js';
