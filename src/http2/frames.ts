/** HTTP/2 frame types (RFC 9113 §6). */
export const F_DATA = 0x0;
export const F_HEADERS = 0x1;
export const F_PRIORITY = 0x2;
export const F_RST_STREAM = 0x3;
export const F_SETTINGS = 0x4;
export const F_PUSH_PROMISE = 0x5;
export const F_PING = 0x6;
export const F_GOAWAY = 0x7;
export const F_WINDOW_UPDATE = 0x8;
export const F_CONTINUATION = 0x9;

/** Frame flags. */
export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

/** Error codes (RFC 9113 §7). */
export const E_NO_ERROR = 0x0;
export const E_PROTOCOL_ERROR = 0x1;
export const E_INTERNAL_ERROR = 0x2;
export const E_FLOW_CONTROL_ERROR = 0x3;
export const E_SETTINGS_TIMEOUT = 0x4;
export const E_STREAM_CLOSED = 0x5;
export const E_FRAME_SIZE_ERROR = 0x6;
export const E_REFUSED_STREAM = 0x7;
export const E_CANCEL = 0x8;
export const E_COMPRESSION_ERROR = 0x9;
export const E_ENHANCE_YOUR_CALM = 0xb;

/** SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441 §3). */
export const S_HEADER_TABLE_SIZE = 0x1;
export const S_ENABLE_PUSH = 0x2;
export const S_MAX_CONCURRENT_STREAMS = 0x3;
export const S_INITIAL_WINDOW_SIZE = 0x4;
export const S_MAX_FRAME_SIZE = 0x5;
export const S_MAX_HEADER_LIST_SIZE = 0x6;
export const S_ENABLE_CONNECT_PROTOCOL = 0x8;

export const FRAME_HEAD = 9;
/** The frame size every endpoint must accept, and the largest we take (we never raise it). */
export const DEFAULT_MAX_FRAME = 16_384;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 0x7fff_ffff;
