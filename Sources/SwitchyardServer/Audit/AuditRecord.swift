/// One audit record: a JSON object on one line, written into a loop's
/// scratch buffer without allocating. Field names are literals; strings
/// from requests are escaped (a byte outside printable ASCII becomes
/// `\u00XX`, so any bytes make valid JSON and can be read back exactly).
struct AuditRecord {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var count = 0
    /// Set when something did not fit: the record is then not written.
    private var overflowed = false
    /// Whether the object or array being written already has a member.
    private var needsComma = false

    /// Starts `{"time":"...","event":"..."` at `unixNanoseconds`.
    init(into buffer: UnsafeMutableRawBufferPointer, event: StaticString, unixNanoseconds: Int64) {
        base = buffer.baseAddress!
        capacity = buffer.count
        put(0x7B)
        key("time")
        time(unixNanoseconds)
        text("event", event)
    }

    /// The record ending in `}` and a newline; nil when it did not fit.
    mutating func finish() -> UnsafeRawBufferPointer? {
        put(0x7D)
        put(0x0A)
        return overflowed ? nil : UnsafeRawBufferPointer(start: base, count: count)
    }

    // MARK: - Members

    mutating func text(_ name: StaticString, _ value: StaticString) {
        key(name)
        put(0x22)
        literal(value)
        put(0x22)
    }

    /// An escaped string; `null` when `value` is empty.
    mutating func text(_ name: StaticString, bytes value: UnsafeRawBufferPointer) {
        key(name)
        guard !value.isEmpty else { return literal("null") }
        put(0x22)
        for byte in value {
            switch byte {
            case 0x22, 0x5C:
                put(0x5C)
                put(byte)
            case 0x20..<0x7F:
                put(byte)
            default:
                literal("\\u00")
                put(Self.hex[Int(byte >> 4)])
                put(Self.hex[Int(byte & 0xF)])
            }
        }
        put(0x22)
    }

    mutating func number(_ name: StaticString, _ value: UInt64) {
        key(name)
        digits(value, minimumWidth: 1)
    }

    /// A decimal string: JSON numbers past 2^53 lose digits in many readers.
    mutating func numberText(_ name: StaticString, _ value: UInt64) {
        key(name)
        put(0x22)
        digits(value, minimumWidth: 1)
        put(0x22)
    }

    /// Up to six decimals, trailing zeros dropped (0.97, 12.5, 1).
    mutating func decimal(_ name: StaticString, _ value: Double) {
        key(name)
        let micros = value.isFinite && value > 0 ? UInt64(min(value, 1e12) * 1_000_000 + 0.5) : 0
        digits(micros / 1_000_000, minimumWidth: 1)
        var fraction = micros % 1_000_000
        guard fraction > 0 else { return }
        var width = 6
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        put(0x2E)
        digits(fraction, minimumWidth: width)
    }

    mutating func null(_ name: StaticString) {
        key(name)
        literal("null")
    }

    /// `"name":[`; members written until ``endArray()`` are its elements.
    mutating func beginArray(_ name: StaticString) {
        key(name)
        put(0x5B)
        needsComma = false
    }

    mutating func endArray() {
        put(0x5D)
        needsComma = true
    }

    /// An object element of the array being written.
    mutating func beginElement() {
        if needsComma { put(0x2C) }
        put(0x7B)
        needsComma = false
    }

    mutating func endElement() {
        put(0x7D)
        needsComma = true
    }

    // MARK: - Bytes

    private mutating func key(_ name: StaticString) {
        if needsComma { put(0x2C) }
        needsComma = true
        put(0x22)
        literal(name)
        put(0x22)
        put(0x3A)
    }

    /// RFC 3339 in UTC with microseconds: `2026-11-22T21:45:33.123456Z`.
    private mutating func time(_ unixNanoseconds: Int64) {
        let seconds = unixNanoseconds / 1_000_000_000
        let (year, month, day) = Self.civil(days: seconds / 86_400)
        let clock = seconds % 86_400
        put(0x22)
        digits(UInt64(year), minimumWidth: 4)
        put(0x2D)
        digits(UInt64(month), minimumWidth: 2)
        put(0x2D)
        digits(UInt64(day), minimumWidth: 2)
        put(0x54)
        digits(UInt64(clock / 3_600), minimumWidth: 2)
        put(0x3A)
        digits(UInt64(clock / 60 % 60), minimumWidth: 2)
        put(0x3A)
        digits(UInt64(clock % 60), minimumWidth: 2)
        put(0x2E)
        digits(UInt64(unixNanoseconds % 1_000_000_000 / 1_000), minimumWidth: 6)
        put(0x5A)
        put(0x22)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (for
    /// times after 1970; Howard Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private mutating func digits(_ value: UInt64, minimumWidth: Int) {
        var width = 0
        var shifted = value
        repeat {
            width += 1
            shifted /= 10
        } while shifted > 0
        width = max(width, minimumWidth)
        guard count + width <= capacity else { return overflowed = true }
        var rest = value
        for offset in stride(from: width - 1, through: 0, by: -1) {
            base.storeBytes(of: UInt8(0x30 + rest % 10), toByteOffset: count + offset, as: UInt8.self)
            rest /= 10
        }
        count += width
    }

    private mutating func literal(_ text: StaticString) {
        guard count + text.utf8CodeUnitCount <= capacity else { return overflowed = true }
        (base + count).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        guard count < capacity else { return overflowed = true }
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}
