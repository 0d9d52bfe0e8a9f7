import CZlibSupport
import Foundation
import HandsOnMessages

/// Why a compressed layer could not be read.
public enum InflateError: Equatable, MessageError {
    case initialisation(code: Int32)
    case corrupt(message: String, compressedOffset: Int64)

    public var message: Message {
        switch self {
        case .initialisation(let code): return Message(.error.gzip.initialisation, ["code": "\(code)"])
        case .corrupt(let message, let offset):
            return Message(.error.gzip.corrupt, ["offset": "\(offset)", "message": "\(message)"])
        }
    }
}

/// A streaming gzip decompressor (zlib's inflate): compressed bytes in, any number of times, uncompressed chunks
/// out through a closure, 64 KiB at a time. Concatenated gzip members are read one after another.
/// A class because zlib's stream state points back at its own address, which must not move.
package final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private(set) var compressedBytes: Int64 = 0
    private(set) var finishedMember = false

    /// `raw`: deflate data without a gzip or zlib header (a zip entry's).
    package init(raw: Bool = false) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 1 << 16, alignment: 16)
        let code = raw ? handson_inflate_init_raw(stream) : handson_inflate_init(stream)
        guard code == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw InflateError.initialisation(code: code)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    package func feed(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer { compressedBytes += Int64(input.count) }
        while true {
            if finishedMember {
                // Trailing zero padding after the last member is common; anything else starts a new member.
                guard stream.pointee.avail_in > 0 else { return }
                if stream.pointee.next_in.pointee == 0 {
                    stream.pointee.next_in += 1
                    stream.pointee.avail_in -= 1
                    continue
                }
                inflateReset(stream)
                finishedMember = false
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let code = inflate(stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(output)[0..<produced])) }
            switch code {
            case Z_STREAM_END:
                finishedMember = true
            case Z_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            case Z_BUF_ERROR:
                return  // no progress possible until more input arrives
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib code \(code)"
                throw InflateError.corrupt(
                    message: message,
                    compressedOffset: compressedBytes + Int64(input.count) - Int64(stream.pointee.avail_in))
            }
        }
    }
}
