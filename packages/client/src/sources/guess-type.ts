// Deliberately small: the server (and its allowedTypes) has the final word; this only saves
// callers from passing `type` for everyday files.
const TYPES: Record<string, string> = {
  txt: 'text/plain', csv: 'text/csv', html: 'text/html', htm: 'text/html', css: 'text/css', md: 'text/markdown',
  js: 'text/javascript', mjs: 'text/javascript', json: 'application/json', xml: 'application/xml',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip',
  tar: 'application/x-tar', '7z': 'application/x-7z-compressed', wasm: 'application/wasm',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', svg: 'image/svg+xml', heic: 'image/heic', ico: 'image/vnd.microsoft.icon',
  mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', mkv: 'video/x-matroska',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac',
  iso: 'application/x-iso9660-image', bin: 'application/octet-stream',
}

/**
 * A MIME type from a file name's extension, or '' when unknown (the server then stores
 * `application/octet-stream`).
 *
 * @example guessType('Holiday.JPG') // 'image/jpeg'
 */
export function guessType(name: string): string {
  const dot = name.lastIndexOf('.')
  if (dot < 0 || dot === name.length - 1) return ''
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? ''
}
