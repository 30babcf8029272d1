/** The text embedded for a chunk: its heading path gives short chunks their context. */
export const embedText = (content: string, heading?: string) =>
  heading ? `${heading}\n${content}` : content;
