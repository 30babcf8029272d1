/** gRPC-web framing for the e2e tests: what a browser client puts on and reads off the wire. */

/** One length-prefixed data frame (flag 0). */
export function dataFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

/** A unary response body: the one message, the trailer frame's flag and its text. */
export function unaryReply(body: Buffer): {
  flag: number;
  message: Buffer;
  trailerFlag: number;
  trailers: string;
} {
  const length = body.readUInt32BE(1);
  return {
    flag: body[0],
    message: body.subarray(5, 5 + length),
    trailerFlag: body[5 + length],
    trailers: body.subarray(5 + length + 5).toString(),
  };
}
