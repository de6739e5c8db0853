//! Tributary's NDJSON accelerator: complete NDJSON lines (valid UTF-8) -> Arrow column buffers
//! for the schema's columns, one run of rows at a time (src/json/ndjson-wasm.ts loads it,
//! src/json/ndjson-decoder.ts appends its runs to the same column builders its JavaScript path
//! fills). It takes only the lines whose every value it decodes exactly as that path does and
//! stops at any other line (status 2), which the JavaScript path then decodes, or refuses with
//! its own message: escapes, unknown or repeated keys, blank lines, coercions (quoted numbers,
//! epoch numbers for timestamps), nulls in NOT NULL columns, values out of a column's range,
//! timestamps and dates outside the common ISO-8601 shapes. Built for wasm32-unknown-unknown
//! by scripts/build-wasm.mjs; no allocator tricks, no imports.
#![allow(static_mut_refs, clippy::missing_safety_doc)]

const T_STRING: u8 = 0;
const T_DOUBLE: u8 = 1;
const T_BIGINT: u8 = 2;
const T_INT: u8 = 3;
const T_BOOL: u8 = 4;
const T_TIMESTAMP: u8 = 5;
const T_DATE: u8 = 6;
const T_DECIMAL: u8 = 7; // p1 = precision, p2 = scale; output i128 unscaled
const T_STRUCT: u8 = 9; // p1 = number of children
const T_LIST: u8 = 10; // one child (the element)
// Any other code (src/json/ndjson-wasm.ts sends 11, NULL_ONLY) takes a null and nothing else:
// value() refuses every other value there (its `_` arm), and put_null() has no buffer to set.
// A schema pass's position only ever null so far (src/json/settled-lines.ts).

const PAD: usize = 64;
/// Rows the buffers are made for at first; they double as a run grows, up to the schema's
/// max_rows. Sized for max_rows up front, a 30-column schema's instance took 24 MB and 8 ms to
/// make, for every decoder: an HTTP source makes one per response, most of a few rows.
const FIRST_ROWS: usize = 1024;

struct Col {
    ty: u8,
    /** A null here is refused (NOT NULL): the line goes to the JavaScript path, which words it. */
    nullable: bool,
    precision: u8,
    param: u8,
    name: Vec<u8>,
    pat: Vec<u8>,   // name + "\":"
    patw: [u64; 6], // pat as little-endian words (zero padded)
    patm: [u64; 6], // masks of the meaningful bytes
    patn: usize,    // words used (0: pattern too long, use slice compare)
    cap: usize,     // rows the fixed-width buffers hold
    data: Vec<u8>,
    valid: Vec<u8>,
    offsets: Vec<i32>, // STRING: byte offsets; LIST: element offsets
    bytes: Vec<u8>,
    children: Vec<Col>,
    seen: Vec<u32>, // STRUCT: per-child stamp
    stamp: u32,
}

struct State {
    root: Col, // a STRUCT whose children are the columns
    max_rows: usize,
    rows: usize,
    flat: Vec<*mut Col>, // pre-order, for col_info
}

static mut ST: Option<State> = None;
/// [consumed bytes, rows in batch, lines consumed in last call]
static mut INFO: [u32; 8] = [0; 8];
static mut COLINFO: [u32; 8] = [0; 8];

#[no_mangle]
pub extern "C" fn alloc(n: usize) -> *mut u8 {
    let v = vec![0u8; n + PAD];
    v.leak().as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn info_ptr() -> *const u32 {
    unsafe { INFO.as_ptr() }
}

fn width(ty: u8) -> usize {
    match ty {
        T_DOUBLE | T_BIGINT | T_TIMESTAMP => 8,
        T_INT | T_DATE => 4,
        T_DECIMAL => 16,
        _ => 0,
    }
}

fn new_col(ty: u8, nullable: bool, precision: u8, param: u8, name: Vec<u8>, cap: usize) -> Col {
    let mut pat = name.clone();
    pat.extend_from_slice(b"\":");
    let mut patw = [0u64; 6];
    let mut patm = [0u64; 6];
    let patn = if pat.len() <= 48 { (pat.len() + 7) / 8 } else { 0 };
    for (j, &b) in pat.iter().enumerate().take(48) {
        patw[j / 8] |= (b as u64) << (8 * (j % 8));
        patm[j / 8] |= 0xffu64 << (8 * (j % 8));
    }
    let mut c = Col {
        ty, nullable, precision, param, name, pat, patw, patm, patn, cap: 0,
        data: Vec::new(), valid: Vec::new(), offsets: Vec::new(), bytes: Vec::new(),
        children: Vec::new(), seen: Vec::new(), stamp: 0,
    };
    c.grow_to(cap);
    if ty == T_STRING {
        c.bytes.reserve(cap * 16);
    }
    c
}

impl Col {
    /// Buffers for `cap` rows (kept contents).
    fn grow_to(&mut self, cap: usize) {
        if cap <= self.cap {
            return;
        }
        let bits = (cap + 7) / 8 + 8;
        self.valid.resize(bits, 0);
        if self.ty == T_BOOL {
            self.data.resize(bits, 0);
        } else {
            self.data.resize(width(self.ty) * cap + 16, 0);
        }
        if self.ty == T_STRING || self.ty == T_LIST {
            self.offsets.resize(cap + 1, 0);
        }
        self.cap = cap;
        if self.ty == T_STRUCT {
            for ch in self.children.iter_mut() {
                ch.grow_to(cap);
            }
        }
    }

    fn reset(&mut self) {
        self.valid.fill(0);
        if self.ty == T_BOOL {
            self.data.fill(0);
        }
        if self.ty == T_STRING {
            self.bytes.clear();
        }
        if !self.offsets.is_empty() {
            self.offsets[0] = 0;
        }
        for ch in self.children.iter_mut() {
            ch.reset();
        }
    }

    /// Undo a partially written row r.
    fn rollback(&mut self, r: usize) {
        if r >= self.cap {
            return;
        }
        self.valid[r >> 3] &= !(1 << (r & 7));
        match self.ty {
            T_STRING => {
                let o = self.offsets[r] as usize;
                self.bytes.truncate(o);
            }
            T_STRUCT => {
                for ch in self.children.iter_mut() {
                    ch.rollback(r);
                }
            }
            T_LIST => {
                let n = self.offsets[r] as usize;
                self.children[0].rollback(n);
            }
            _ => {}
        }
    }
}

/// Schema descriptor, pre-order: type u8, nullable u8, p1 u8, p2 u8, name length u16 (little
/// endian), name bytes; a STRUCT's children (p1 of them) and a LIST's element (one, empty
/// name) follow it. DECIMAL: p1 precision, p2 scale.
unsafe fn read_col(d: &[u8], i: &mut usize, cap: usize) -> Col {
    let ty = d[*i];
    let nullable = d[*i + 1] != 0;
    let p1 = d[*i + 2];
    let p2 = d[*i + 3];
    let nl = d[*i + 4] as usize | (d[*i + 5] as usize) << 8;
    let name = d[*i + 6..*i + 6 + nl].to_vec();
    *i += 6 + nl;
    let (precision, param) = if ty == T_DECIMAL { (p1, p2) } else { (0, p1) };
    let mut c = new_col(ty, nullable, precision, param, name, cap);
    if ty == T_STRUCT {
        for _ in 0..param {
            let ch = read_col(d, i, cap);
            c.children.push(ch);
        }
        c.seen = vec![0; c.children.len()];
    } else if ty == T_LIST {
        let ch = read_col(d, i, cap);
        c.children.push(ch);
    }
    c
}

fn flatten(c: &mut Col, out: &mut Vec<*mut Col>) {
    out.push(c as *mut Col);
    for ch in c.children.iter_mut() {
        flatten(ch, out);
    }
}

#[no_mangle]
pub unsafe extern "C" fn set_schema(p: *const u8, len: usize, max_rows: usize) {
    let d = core::slice::from_raw_parts(p, len);
    let cap = if max_rows < FIRST_ROWS { max_rows } else { FIRST_ROWS };
    let mut root = new_col(T_STRUCT, false, 0, 0, Vec::new(), cap);
    let mut i = 0;
    while i < len {
        let c = read_col(d, &mut i, cap);
        root.children.push(c);
    }
    root.seen = vec![0; root.children.len()];
    ST = Some(State { root, max_rows, rows: 0, flat: Vec::new() });
    let st = ST.as_mut().unwrap();
    let mut flat = Vec::new();
    for ch in st.root.children.iter_mut() {
        flatten(ch, &mut flat);
    }
    st.flat = flat;
}

/// Start a new batch (after JS copied the columns out).
#[no_mangle]
pub unsafe extern "C" fn reset() {
    let st = ST.as_mut().unwrap();
    st.rows = 0;
    st.root.reset();
}

/// Column k in pre-order (children after their parent): [data, valid, offsets, bytes, bytes_len,
/// nulls, length]; length = rows for top-level and struct children, offsets[n] for list elements.
#[no_mangle]
pub unsafe extern "C" fn col_info(k: usize, n: usize) -> *const u32 {
    let st = ST.as_ref().unwrap();
    let c = &*st.flat[k];
    COLINFO[0] = c.data.as_ptr() as u32;
    COLINFO[1] = c.valid.as_ptr() as u32;
    COLINFO[2] = c.offsets.as_ptr() as u32;
    COLINFO[3] = c.bytes.as_ptr() as u32;
    COLINFO[4] = c.bytes.len() as u32;
    let mut set = 0u32;
    let full = n >> 3;
    for &b in &c.valid[..full] {
        set += b.count_ones();
    }
    for r in (full << 3)..n {
        set += ((c.valid[r >> 3] >> (r & 7)) & 1) as u32;
    }
    COLINFO[5] = (n as u32) - set;
    COLINFO.as_ptr()
}

/// Decodes complete ('\n'-terminated) lines of p[0..len) until the run holds `max_rows` rows
/// (at most the schema's max_rows). p[len] must be writable (a sentinel goes there).
/// Returns 0: all lines taken; 1: the run is full; 2: the line at INFO[0] is not one it takes.
/// INFO[0] = bytes consumed (the start of the next line), INFO[1] = rows in the run.
#[no_mangle]
pub unsafe extern "C" fn decode(p: *const u8, len: usize, max_rows: usize) -> u32 {
    let st = ST.as_mut().unwrap();
    let max_rows = if max_rows < st.max_rows { max_rows } else { st.max_rows };
    let mut pos = 0usize;
    let mut lines = 0u32;
    let status;
    *(p as *mut u8).add(len) = 0; // sentinel: every scan stops here
    loop {
        if st.rows >= max_rows {
            status = 1;
            break;
        }
        if pos >= len {
            status = 0;
            break;
        }
        if st.rows >= st.root.cap {
            // Every row-indexed write below stays within cap: the row about to be decoded fits.
            let cap = st.root.cap * 2;
            st.root.grow_to(if cap < st.max_rows { cap } else { st.max_rows });
        }
        match decode_line(st, p, pos) {
            Ok((next, row)) => {
                pos = next;
                lines += 1;
                if row {
                    st.rows += 1;
                }
            }
            Err(()) => {
                st.root.rollback(st.rows);
                let rest = core::slice::from_raw_parts(p.add(pos), len - pos);
                status = if rest.contains(&b'\n') { 2 } else { 0 };
                break;
            }
        }
    }
    INFO[0] = pos as u32;
    INFO[1] = st.rows as u32;
    INFO[2] = lines;
    status
}

#[no_mangle]
pub unsafe extern "C" fn rows() -> u32 {
    ST.as_ref().unwrap().rows as u32
}

#[inline(always)]
unsafe fn set_bit(v: &mut [u8], r: usize) {
    *v.get_unchecked_mut(r >> 3) |= 1 << (r & 7);
}
#[inline(always)]
unsafe fn clr_bit(v: &mut [u8], r: usize) {
    *v.get_unchecked_mut(r >> 3) &= !(1 << (r & 7));
}

#[inline(always)]
unsafe fn at(p: *const u8, i: usize) -> u8 {
    *p.add(i)
}

#[inline(always)]
unsafe fn skip_ws(p: *const u8, mut i: usize) -> usize {
    loop {
        let c = at(p, i);
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
        } else {
            return i;
        }
    }
}

/// One line from p[i]: Ok((position after its '\n', produced a row)).
#[inline(always)]
unsafe fn decode_line(st: &mut State, p: *const u8, i0: usize) -> Result<(usize, bool), ()> {
    let mut i = skip_ws(p, i0);
    let c = at(p, i);
    // A blank line moves the line numbers against the rows: the JavaScript path keeps that count.
    if c != b'{' {
        return Err(());
    }
    i = object(&mut st.root, p, i + 1, st.rows)?;
    i = skip_ws(p, i);
    if at(p, i) != b'\n' {
        return Err(());
    }
    Ok((i + 1, true))
}

/// The members of an object (p[i] just after '{') into the children of `sc` at row `row`;
/// returns the position after '}'. Children not present become null.
#[inline(always)]
unsafe fn object(sc: &mut Col, p: *const u8, mut i: usize, row: usize) -> Result<usize, ()> {
    sc.stamp = sc.stamp.wrapping_add(1);
    if sc.stamp == 0 {
        sc.seen.fill(0);
        sc.stamp = 1;
    }
    let stamp = sc.stamp;
    let ncols = sc.children.len();
    let mut expected = 0usize;
    let mut nseen = 0usize;
    i = skip_ws(p, i);
    if at(p, i) == b'}' {
        i += 1;
    } else {
        loop {
            if at(p, i) != b'"' {
                return Err(());
            }
            i += 1;
            let mut k = usize::MAX;
            if expected < ncols {
                let col = sc.children.get_unchecked(expected);
                let l = col.pat.len();
                let n = col.patn;
                let ok = if n > 0 {
                    let q = p.add(i) as *const u64;
                    let mut diff = 0u64;
                    for j in 0..n {
                        diff |= (q.add(j).read_unaligned() ^ *col.patw.get_unchecked(j)) & *col.patm.get_unchecked(j);
                    }
                    diff == 0
                } else {
                    core::slice::from_raw_parts(p.add(i), l) == col.pat.as_slice()
                };
                if ok {
                    k = expected;
                    i += l;
                }
            }
            if k == usize::MAX {
                // general key: no escapes
                let s = i;
                loop {
                    let c = at(p, i);
                    if c == b'"' {
                        break;
                    }
                    if c == b'\\' || c < 0x20 {
                        return Err(());
                    }
                    i += 1;
                }
                let key = core::slice::from_raw_parts(p.add(s), i - s);
                i += 1;
                for (j, c) in sc.children.iter().enumerate() {
                    if c.name.as_slice() == key {
                        k = j;
                        break;
                    }
                }
                if k == usize::MAX {
                    return Err(()); // unknown key
                }
                i = skip_ws(p, i);
                if at(p, i) != b':' {
                    return Err(());
                }
                i += 1;
            }
            if *sc.seen.get_unchecked(k) == stamp {
                return Err(()); // duplicate key
            }
            *sc.seen.get_unchecked_mut(k) = stamp;
            nseen += 1;
            i = skip_ws(p, i);
            let col = sc.children.get_unchecked_mut(k);
            i = value(col, p, i, row)?;
            expected = k + 1;
            i = skip_ws(p, i);
            let c = at(p, i);
            if c == b',' {
                i = skip_ws(p, i + 1);
                continue;
            }
            if c == b'}' {
                i += 1;
                break;
            }
            return Err(());
        }
    }
    if nseen != ncols {
        for k in 0..ncols {
            if *sc.seen.get_unchecked(k) != stamp {
                null_value(sc.children.get_unchecked_mut(k), row)?;
            }
        }
    }
    Ok(i)
}

/// A null (written, or an absent key): refused in a NOT NULL column or field.
#[inline(always)]
unsafe fn null_value(col: &mut Col, row: usize) -> Result<(), ()> {
    if !col.nullable {
        return Err(());
    }
    put_null(col, row);
    Ok(())
}

/// A null's slot (a null struct's fields too, where NOT NULL does not apply).
unsafe fn put_null(col: &mut Col, row: usize) {
    clr_bit(&mut col.valid, row);
    match col.ty {
        T_STRING | T_LIST => {
            let o = *col.offsets.get_unchecked(row);
            *col.offsets.get_unchecked_mut(row + 1) = o;
        }
        T_DOUBLE | T_BIGINT | T_TIMESTAMP => {
            (col.data.as_mut_ptr() as *mut u64).add(row).write_unaligned(0);
        }
        T_INT | T_DATE => {
            (col.data.as_mut_ptr() as *mut u32).add(row).write_unaligned(0);
        }
        T_DECIMAL => {
            (col.data.as_mut_ptr() as *mut u128).add(row).write_unaligned(0);
        }
        T_BOOL => clr_bit(&mut col.data, row),
        T_STRUCT => {
            for ch in col.children.iter_mut() {
                put_null(ch, row);
            }
        }
        _ => {}
    }
}

#[inline(never)]
unsafe fn nested(col: &mut Col, p: *const u8, i: usize, row: usize) -> Result<usize, ()> {
    let c = at(p, i);
    if col.ty == T_STRUCT {
        if c != b'{' {
            return Err(());
        }
        return object(col, p, i + 1, row);
    }
    // LIST
    if c != b'[' {
        return Err(());
    }
    let mut n = *col.offsets.get_unchecked(row) as usize;
    let mut i = skip_ws(p, i + 1);
    let el = col.children.get_unchecked_mut(0);
    if at(p, i) == b']' {
        i += 1;
    } else {
        loop {
            if n >= el.cap {
                el.grow_to(if el.cap < 8 { 16 } else { el.cap * 2 });
            }
            i = value(el, p, i, n)?;
            n += 1;
            i = skip_ws(p, i);
            let c = at(p, i);
            if c == b',' {
                i = skip_ws(p, i + 1);
                continue;
            }
            if c == b']' {
                i += 1;
                break;
            }
            return Err(());
        }
    }
    *col.offsets.get_unchecked_mut(row + 1) = n as i32;
    Ok(i)
}

#[inline(always)]
unsafe fn value(col: &mut Col, p: *const u8, i: usize, row: usize) -> Result<usize, ()> {
    let c = at(p, i);
    if c == b'n' {
        if core::slice::from_raw_parts(p.add(i), 4) == b"null" {
            null_value(col, row)?;
            return Ok(i + 4);
        }
        return Err(());
    }
    set_bit(&mut col.valid, row);
    match col.ty {
        T_STRING => {
            if c != b'"' {
                return Err(());
            }
            let s = i + 1;
            let e = scan_string(p, s)?;
            let sl = core::slice::from_raw_parts(p.add(s), e - s);
            col.bytes.extend_from_slice(sl);
            *col.offsets.get_unchecked_mut(row + 1) = col.bytes.len() as i32;
            Ok(e + 1)
        }
        T_DOUBLE => {
            let (v, e) = parse_double(p, i)?;
            (col.data.as_mut_ptr() as *mut f64).add(row).write_unaligned(v);
            Ok(e)
        }
        T_BIGINT | T_INT => {
            let (v, e) = parse_int(p, i)?;
            if col.ty == T_BIGINT {
                (col.data.as_mut_ptr() as *mut i64).add(row).write_unaligned(v);
            } else {
                if v < i32::MIN as i64 || v > i32::MAX as i64 {
                    return Err(());
                }
                (col.data.as_mut_ptr() as *mut i32).add(row).write_unaligned(v as i32);
            }
            Ok(e)
        }
        T_BOOL => {
            if core::slice::from_raw_parts(p.add(i), 4) == b"true" {
                set_bit(&mut col.data, row);
                Ok(i + 4)
            } else if core::slice::from_raw_parts(p.add(i), 5) == b"false" {
                clr_bit(&mut col.data, row);
                Ok(i + 5)
            } else {
                Err(())
            }
        }
        T_TIMESTAMP => {
            if c != b'"' {
                return Err(());
            }
            let (v, e) = parse_ts(p, i + 1)?;
            (col.data.as_mut_ptr() as *mut i64).add(row).write_unaligned(v);
            Ok(e)
        }
        T_DATE => {
            if c != b'"' || at(p, i + 11) != b'"' {
                return Err(());
            }
            let d = date_days(p, i + 1)?;
            (col.data.as_mut_ptr() as *mut i32).add(row).write_unaligned(d as i32);
            Ok(i + 12)
        }
        T_DECIMAL => {
            let (v, e) = parse_decimal(p, i, col.precision as u32, col.param as u32)?;
            (col.data.as_mut_ptr() as *mut i128).add(row).write_unaligned(v);
            Ok(e)
        }
        T_STRUCT | T_LIST => nested(col, p, i, row),
        _ => Err(()),
    }
}

// ---------- strings ----------

/// From s (just after the opening quote): the index of the closing quote. Fails on a backslash
/// or control character; validates UTF-8 when a non-ASCII byte was seen.
#[inline(always)]
unsafe fn scan_string(p: *const u8, s: usize) -> Result<usize, ()> {
    const ONES: u64 = 0x0101010101010101;
    const HIGH: u64 = 0x8080808080808080;
    let mut i = s;
    let mut hi = 0u64;
    loop {
        let v = (p.add(i) as *const u64).read_unaligned();
        let q = v ^ (ONES * b'"' as u64);
        let b = v ^ (ONES * b'\\' as u64);
        let m = ((q.wrapping_sub(ONES) & !q) | (b.wrapping_sub(ONES) & !b) | (v.wrapping_sub(ONES * 0x20) & !v)) & HIGH;
        if m == 0 {
            hi |= v;
            i += 8;
            continue;
        }
        let tz = m.trailing_zeros() as usize; // bit 7 of the first special byte
        let k = tz >> 3;
        hi |= v & ((1u64 << (k * 8)) - 1);
        let e = i + k;
        if at(p, e) != b'"' {
            return Err(());
        }
        if hi & HIGH != 0 && core::str::from_utf8(core::slice::from_raw_parts(p.add(s), e - s)).is_err() {
            return Err(());
        }
        return Ok(e);
    }
}

// ---------- numbers ----------

/// JSON integer (no fraction/exponent) into i64.
#[inline(always)]
unsafe fn parse_int(p: *const u8, mut i: usize) -> Result<(i64, usize), ()> {
    let neg = at(p, i) == b'-';
    if neg {
        i += 1;
    }
    let s = i;
    let mut v: u64 = 0;
    let c = at(p, i);
    if c == b'0' {
        i += 1;
    } else {
        loop {
            let w = (p.add(i) as *const u64).read_unaligned();
            if i - s <= 11 && is_8digits(w) {
                v = v * 100_000_000 + parse_8digits(w);
                i += 8;
                continue;
            }
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        if i == s || i - s > 19 {
            return Err(());
        }
    }
    let c = at(p, i);
    if c == b'.' || c == b'e' || c == b'E' || c.wrapping_sub(b'0') < 10 {
        return Err(()); // fraction/exponent/leading zero: JS path
    }
    if i - s == 19 && v > i64::MAX as u64 + neg as u64 {
        return Err(());
    }
    // 19 digits can wrap past u64? max 19-digit is 9.99e18 < 1.8e19: no wrap.
    let r = if neg { (v as i64).wrapping_neg() } else { v as i64 };
    Ok((r, i))
}

/// DECIMAL(precision, scale) from a JSON number: its unscaled value. Fails (the JavaScript path
/// decides) on an exponent, non-zero digits beyond the scale, more than 18 digits, or a value
/// the precision does not hold.
#[inline(always)]
unsafe fn parse_decimal(p: *const u8, mut i: usize, precision: u32, scale: u32) -> Result<(i128, usize), ()> {
    let neg = at(p, i) == b'-';
    if neg {
        i += 1;
    }
    let s = i;
    let mut v: u64 = 0;
    let mut nd = 0u32;
    let c = at(p, i);
    if c == b'0' {
        i += 1;
    } else {
        loop {
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            v = v * 10 + d as u64;
            nd += 1;
            i += 1;
            if nd > 18 {
                return Err(());
            }
        }
        if i == s {
            return Err(());
        }
    }
    let mut fd = 0u32;
    if at(p, i) == b'.' {
        i += 1;
        if at(p, i).wrapping_sub(b'0') >= 10 {
            return Err(());
        }
        loop {
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            if fd < scale {
                // At most 18 digits in all: v stays below 10^18, never wraps.
                if v >= 100_000_000_000_000_000 {
                    return Err(());
                }
                v = v * 10 + d as u64;
                fd += 1;
            } else if d != 0 {
                return Err(());
            }
            i += 1;
        }
    }
    let c = at(p, i);
    if c == b'e' || c == b'E' {
        return Err(());
    }
    while fd < scale {
        if v >= 100_000_000_000_000_000 {
            return Err(());
        }
        v *= 10;
        fd += 1;
    }
    if v >= 1_000_000_000_000_000_000 || (precision < 18 && v >= 10u64.pow(precision)) {
        return Err(());
    }
    let r = if neg { -(v as i128) } else { v as i128 };
    Ok((r, i))
}

// ---------- dates / timestamps ----------

#[inline(always)]
unsafe fn d2(p: *const u8, i: usize) -> Result<i64, ()> {
    let x = at(p, i).wrapping_sub(b'0');
    let y = at(p, i + 1).wrapping_sub(b'0');
    if x < 10 && y < 10 {
        Ok((x * 10 + y) as i64)
    } else {
        Err(())
    }
}

#[inline(always)]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[inline(always)]
unsafe fn date_days(p: *const u8, s: usize) -> Result<i64, ()> {
    let y = d2(p, s)? * 100 + d2(p, s + 2)?;
    if at(p, s + 4) != b'-' || at(p, s + 7) != b'-' {
        return Err(());
    }
    let mo = d2(p, s + 5)?;
    let d = d2(p, s + 8)?;
    if y < 1 || mo < 1 || mo > 12 || d < 1 {
        return Err(());
    }
    let dim = if mo == 2 {
        if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 29 } else { 28 }
    } else if mo == 4 || mo == 6 || mo == 9 || mo == 11 {
        30
    } else {
        31
    };
    if d > dim {
        return Err(());
    }
    Ok(days_from_civil(y, mo, d))
}

/// `YYYY-MM-DD(T|t| )HH:MM[:SS[.f{1,9}]][Z|±HH:MM]"` from s (after the quote); same acceptance
/// as the JS isoTimestampMicros for these shapes (date-only and other shapes: JS path).
#[inline(always)]
unsafe fn parse_ts(p: *const u8, s: usize) -> Result<(i64, usize), ()> {
    let days = date_days(p, s)?;
    let sep = at(p, s + 10);
    if sep != b'T' && sep != b't' && sep != b' ' {
        return Err(());
    }
    let hh = d2(p, s + 11)?;
    let mi = d2(p, s + 14)?;
    if hh > 23 || at(p, s + 13) != b':' || mi > 59 {
        return Err(());
    }
    let mut secs = days * 86400 + hh * 3600 + mi * 60;
    let mut i = s + 16;
    let mut micros = 0i64;
    if at(p, i) == b':' {
        let ss = d2(p, i + 1)?;
        if ss > 59 {
            return Err(());
        }
        secs += ss;
        i += 3;
        if at(p, i) == b'.' {
            i += 1;
            let mut k = 0;
            loop {
                let d = at(p, i).wrapping_sub(b'0');
                if d >= 10 {
                    break;
                }
                if k < 6 {
                    micros = micros * 10 + d as i64;
                } else if d != 0 {
                    return Err(());
                }
                i += 1;
                k += 1;
            }
            if k == 0 || k > 9 {
                return Err(());
            }
            const P: [i64; 7] = [1, 10, 100, 1000, 10000, 100000, 1000000];
            if k < 6 {
                micros *= P[6 - k];
            }
        }
    }
    let z = at(p, i);
    if z == b'Z' {
        i += 1;
    } else if z == b'+' || z == b'-' {
        if at(p, i + 3) != b':' {
            return Err(());
        }
        let oh = d2(p, i + 1)?;
        let om = d2(p, i + 4)?;
        if om > 59 || oh * 60 + om > 18 * 60 {
            return Err(());
        }
        let off = 60 * (oh * 60 + om);
        secs += if z == b'-' { off } else { -off };
        i += 6;
    }
    if at(p, i) != b'"' {
        return Err(());
    }
    // Spark's range (years 1 to 9999 in UTC): an offset can move a value just outside it.
    if secs < -62_135_596_800 || secs > 253_402_300_799 {
        return Err(());
    }
    Ok((secs * 1_000_000 + micros, i + 1))
}

// ---------- doubles: one pass, exact fast paths in f64 arithmetic (port of the JS nearestDouble) ----------

const POW10F: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];
const SPLIT: f64 = 134217729.0;

#[inline(always)]
fn two_prod_err(a: f64, b: f64, p: f64) -> f64 {
    let c = SPLIT * a;
    let ah = c - (c - a);
    let al = a - ah;
    let c = SPLIT * b;
    let bh = c - (c - b);
    let bl = b - bh;
    ah * bh - p + ah * bl + al * bh + al * bl
}

/// The JSON number at p[i] as the correctly rounded double, and the position after it. Finite
/// only (an overflow goes to the JavaScript path); the integer -0 is 0.0, as there (Spark's reader).
#[inline(always)]
unsafe fn parse_double(p: *const u8, i0: usize) -> Result<(f64, usize), ()> {
    let mut i = i0;
    let neg = at(p, i) == b'-';
    if neg {
        i += 1;
    }
    let mut m: u64 = 0;
    let mut nd: i32 = 0;
    let mut e: i32 = 0;
    let mut many = false;
    let c = at(p, i);
    if c == b'0' {
        i += 1;
    } else if c.wrapping_sub(b'1') < 9 {
        loop {
            let w = (p.add(i) as *const u64).read_unaligned();
            if nd <= 11 && is_8digits(w) {
                m = m * 100_000_000 + parse_8digits(w);
                nd += 8;
                i += 8;
                continue;
            }
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            if nd < 19 {
                m = m * 10 + d as u64;
                nd += 1;
            } else {
                many = true;
            }
            i += 1;
        }
    } else {
        return Err(());
    }
    let fraction = at(p, i) == b'.';
    if fraction {
        i += 1;
        if at(p, i).wrapping_sub(b'0') >= 10 {
            return Err(());
        }
        loop {
            let w = (p.add(i) as *const u64).read_unaligned();
            if nd > 0 && nd <= 11 && is_8digits(w) {
                m = m * 100_000_000 + parse_8digits(w);
                nd += 8;
                e -= 8;
                i += 8;
                continue;
            }
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            if nd == 0 && d == 0 {
                e -= 1;
            } else if nd < 19 {
                m = m * 10 + d as u64;
                nd += 1;
                e -= 1;
            } else {
                many = true;
            }
            i += 1;
        }
    }
    let integer = at(p, i - 1).wrapping_sub(b'0') < 10 && !(at(p, i) == b'e' || at(p, i) == b'E') && !fraction;
    let c = at(p, i);
    if c == b'e' || c == b'E' {
        i += 1;
        let c = at(p, i);
        let eneg = c == b'-';
        if c == b'+' || c == b'-' {
            i += 1;
        }
        if at(p, i).wrapping_sub(b'0') >= 10 {
            return Err(());
        }
        let mut x: i32 = 0;
        loop {
            let d = at(p, i).wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            if x < 100000 {
                x = x * 10 + d as i32;
            }
            i += 1;
        }
        e += if eneg { -x } else { x };
    }
    let v = if m == 0 && !many {
        0.0
    } else if !many && nd <= 15 && e.abs() <= 22 {
        // Clinger: both exact, one rounding
        let mf = m as f64;
        if e >= 0 { mf * POW10F[e as usize] } else { mf / POW10F[(-e) as usize] }
    } else if !many && e.abs() <= 22 {
        match nearest_dd(m, e) {
            Some(x) => x,
            None => slow(p, i0, i)?.abs(),
        }
    } else {
        slow(p, i0, i)?.abs()
    };
    if !v.is_finite() {
        return Err(());
    }
    Ok((if neg && !(integer && v == 0.0) { -v } else { v }, i))
}

#[cold]
#[inline(never)]
unsafe fn slow(p: *const u8, s: usize, e: usize) -> Result<f64, ()> {
    core::str::from_utf8_unchecked(core::slice::from_raw_parts(p.add(s), e - s)).parse::<f64>().map_err(|_| ())
}

/// m * 10^e (m < 2^64, |e| <= 22) in double-double; None when too close to a rounding boundary.
#[inline(always)]
fn nearest_dd(m: u64, e: i32) -> Option<f64> {
    let mh = m as f64;
    let ml = (m.wrapping_sub(mh as u64) as i64) as f64; // exact: |ml| <= 2^10
    let (xh, xl);
    if e >= 0 {
        let d = POW10F[e as usize];
        let h = mh * d;
        xl = two_prod_err(mh, d, h) + ml * d;
        xh = h;
    } else {
        let d = POW10F[(-e) as usize];
        let h = mh / d;
        let q = h * d;
        let qe = two_prod_err(h, d, q);
        xl = (mh - q - qe + ml) / d;
        xh = h;
    }
    let x = xh + xl;
    let t = xh - x + xl;
    let tol = x.abs() * 8.271806125530277e-25; // 2^-80
    if x + (t + tol) != x || x + (t - tol) != x {
        return None;
    }
    Some(x)
}

#[inline(always)]
fn is_8digits(v: u64) -> bool {
    let a = v.wrapping_add(0x4646464646464646);
    let b = v.wrapping_sub(0x3030303030303030);
    (a | b) & 0x8080808080808080 == 0
}

#[inline(always)]
fn parse_8digits(mut v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 0x000F_4240_0000_0064; // 100 + (1000000 << 32)
    const MUL2: u64 = 0x0000_2710_0000_0001; // 1 + (10000 << 32)
    v = v.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v1 = (v & MASK).wrapping_mul(MUL1);
    let v2 = ((v >> 16) & MASK).wrapping_mul(MUL2);
    (v1.wrapping_add(v2) >> 32) as u32 as u64
}
