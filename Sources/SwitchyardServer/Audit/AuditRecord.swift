/// One audit record: a JSON object on one line, written by the audit
/// writer into its line buffer without allocating. Field names are literals; strings
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
    //
    // Each member reserves the most it can take, once, then stores bytes
    // unchecked: a bounds check per byte, and a memcpy call per short
    // literal, were most of a record's cost when loops formatted records.

    mutating func text(_ name: StaticString, _ value: StaticString) {
        guard reserve(name, value.utf8CodeUnitCount + 2) else { return }
        key(name)
        store(0x22)
        literal(value)
        store(0x22)
    }

    /// An escaped string; `null` when `value` is empty.
    mutating func text(_ name: StaticString, bytes value: UnsafeRawBufferPointer) {
        guard reserve(name, value.count * 6 + 4) else { return }
        key(name)
        guard !value.isEmpty else { return literal("null") }
        store(0x22)
        for byte in value {
            switch byte {
            case 0x22, 0x5C:
                store(0x5C)
                store(byte)
            case 0x20..<0x7F:
                store(byte)
            default:
                literal("\\u00")
                store(Self.hex[Int(byte >> 4)])
                store(Self.hex[Int(byte & 0xF)])
            }
        }
        store(0x22)
    }

    mutating func number(_ name: StaticString, _ value: UInt64) {
        guard reserve(name, 20) else { return }
        key(name)
        digits(value)
    }

    /// A decimal string: JSON numbers past 2^53 lose digits in many readers.
    mutating func numberText(_ name: StaticString, _ value: UInt64) {
        guard reserve(name, 22) else { return }
        key(name)
        store(0x22)
        digits(value)
        store(0x22)
    }

    /// Up to six decimals, trailing zeros dropped (0.97, 12.5, 1).
    mutating func decimal(_ name: StaticString, _ value: Double) {
        guard reserve(name, 20) else { return }
        key(name)
        let micros = value.isFinite && value > 0 ? UInt64(min(value, 1e12) * 1_000_000 + 0.5) : 0
        digits(micros / 1_000_000)
        let fraction = micros % 1_000_000
        guard fraction > 0 else { return }
        store(0x2E)
        fixed(fraction, width: 6)
        while base.load(fromByteOffset: count - 1, as: UInt8.self) == 0x30 { count -= 1 }
    }

    mutating func null(_ name: StaticString) {
        guard reserve(name, 4) else { return }
        key(name)
        literal("null")
    }

    /// `"name":[`; members written until ``endArray()`` are its elements.
    mutating func beginArray(_ name: StaticString) {
        guard reserve(name, 1) else { return }
        key(name)
        store(0x5B)
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

    /// Room for a member named `name` with up to `value` bytes of value;
    /// false (and the record refused) when there is none.
    private mutating func reserve(_ name: StaticString, _ value: Int) -> Bool {
        guard !overflowed, count + name.utf8CodeUnitCount + 4 + value <= capacity else {
            overflowed = true
            return false
        }
        return true
    }

    private mutating func key(_ name: StaticString) {
        if needsComma { store(0x2C) }
        needsComma = true
        store(0x22)
        literal(name)
        store(0x22)
        store(0x3A)
    }

    /// RFC 3339 in UTC with microseconds: `2026-11-22T21:45:33.123456Z`.
    private mutating func time(_ unixNanoseconds: Int64) {
        guard reserve("time", 40) else { return }
        key("time")
        let seconds = unixNanoseconds / 1_000_000_000
        let (year, month, day) = Self.civil(days: seconds / 86_400)
        let clock = seconds % 86_400
        store(0x22)
        fixed(UInt64(year), width: 4)
        store(0x2D)
        fixed(UInt64(month), width: 2)
        store(0x2D)
        fixed(UInt64(day), width: 2)
        store(0x54)
        fixed(UInt64(clock / 3_600), width: 2)
        store(0x3A)
        fixed(UInt64(clock / 60 % 60), width: 2)
        store(0x3A)
        fixed(UInt64(clock % 60), width: 2)
        store(0x2E)
        fixed(UInt64(unixNanoseconds % 1_000_000_000 / 1_000), width: 6)
        store(0x5A)
        store(0x22)
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

    /// `value` in decimal; the caller reserved 20 bytes.
    private mutating func digits(_ value: UInt64) {
        var width = 1
        var bound: UInt64 = 10
        while width < 20 && value >= bound {
            width += 1
            bound = bound &* 10
        }
        fixed(value, width: width)
    }

    /// The last `width` decimal digits of `value`, zero-padded, two at a time.
    private mutating func fixed(_ value: UInt64, width: Int) {
        var rest = value
        var offset = count + width
        while offset - count >= 2 {
            let pair = Int(rest % 100) * 2
            rest /= 100
            offset -= 2
            base.storeBytes(of: Self.pairs[pair], toByteOffset: offset, as: UInt8.self)
            base.storeBytes(of: Self.pairs[pair + 1], toByteOffset: offset + 1, as: UInt8.self)
        }
        if offset > count { base.storeBytes(of: UInt8(0x30 + rest % 10), toByteOffset: count, as: UInt8.self) }
        count += width
    }

    /// A short literal, byte by byte: a memcpy call costs more than the copy.
    private mutating func literal(_ text: StaticString) {
        let start = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount { store(start[i]) }
    }

    /// A byte the caller has reserved room for.
    @inline(__always)
    private mutating func store(_ byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        guard count < capacity else { return overflowed = true }
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
    /// "00", "01", ... "99", back to back.
    private static let pairs: [UInt8] = {
        var pairs: [UInt8] = []
        for tens in 0..<10 {
            for ones in 0..<10 { pairs += [UInt8(0x30 + tens), UInt8(0x30 + ones)] }
        }
        return pairs
    }()
}
