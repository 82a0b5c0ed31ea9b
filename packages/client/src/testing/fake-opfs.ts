/**
 * An origin-private file system in memory, for the download sinks' unit tests in Node: the calls
 * the sinks make, with OPFS's semantics where they matter (a writable's bytes land at close(),
 * abort() leaves the file as it was, removeEntry of a non-empty directory needs `recursive`).
 */

export class FakeFileHandle {
  readonly kind = 'file' as const
  bytes = new Uint8Array(0)
  lastModified = Date.now()
  writables = 0

  constructor(readonly name: string) {}

  async getFile(): Promise<File> {
    return new File([this.bytes as Uint8Array<ArrayBuffer>], this.name, { lastModified: this.lastModified })
  }

  async createWritable(): Promise<FileSystemWritableFileStream> {
    const chunks: Uint8Array[] = []
    let closed = false
    this.writables++
    const writable = {
      write: async (data: unknown) => {
        if (closed) throw new TypeError('the writable is closed')
        if (data instanceof Blob) chunks.push(new Uint8Array(await data.arrayBuffer()))
        else chunks.push((data as Uint8Array).slice())
      },
      close: async () => {
        if (closed) throw new TypeError('the writable is closed')
        closed = true
        this.bytes = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer())
        this.lastModified = Date.now()
      },
      abort: async () => {
        closed = true
      },
    }
    return writable as unknown as FileSystemWritableFileStream
  }
}

export class FakeDirectoryHandle {
  readonly kind = 'directory' as const
  readonly children = new Map<string, FakeFileHandle | FakeDirectoryHandle>()

  constructor(readonly name: string) {}

  async getDirectoryHandle(name: string, options: { create?: boolean } = {}): Promise<FakeDirectoryHandle> {
    const found = this.children.get(name)
    if (found instanceof FakeDirectoryHandle) return found
    if (found !== undefined) throw new DOMException('a file of that name', 'TypeMismatchError')
    if (!options.create) throw new DOMException(`no directory ${name}`, 'NotFoundError')
    const made = new FakeDirectoryHandle(name)
    this.children.set(name, made)
    return made
  }

  async getFileHandle(name: string, options: { create?: boolean } = {}): Promise<FakeFileHandle> {
    const found = this.children.get(name)
    if (found instanceof FakeFileHandle) return found
    if (found !== undefined) throw new DOMException('a directory of that name', 'TypeMismatchError')
    if (!options.create) throw new DOMException(`no file ${name}`, 'NotFoundError')
    const made = new FakeFileHandle(name)
    this.children.set(name, made)
    return made
  }

  async removeEntry(name: string, options: { recursive?: boolean } = {}): Promise<void> {
    const found = this.children.get(name)
    if (found === undefined) throw new DOMException(`no entry ${name}`, 'NotFoundError')
    if (found instanceof FakeDirectoryHandle && found.children.size > 0 && !options.recursive) throw new DOMException('not empty', 'InvalidModificationError')
    this.children.delete(name)
  }

  async *entries(): AsyncGenerator<[string, FakeFileHandle | FakeDirectoryHandle]> {
    for (const entry of [...this.children]) yield entry
  }

  /** Test helper: the directory as the sinks see it. */
  asHandle(): FileSystemDirectoryHandle {
    return this as unknown as FileSystemDirectoryHandle
  }
}
