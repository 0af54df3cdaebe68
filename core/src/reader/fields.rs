//! Splits one line into its fields with [`csv_core`], the state machine under the `csv` crate.
//!
//! Why csv-core and not a hand-written splitter: it implements RFC 4180 quoting (delimiters
//! and doubled quotes inside quoted fields) as a table-driven DFA that copies runs of plain
//! bytes at once, and it was as fast as the splitter it replaced on the producer's input
//! (figures in `BENCHMARKS.md`, "CSV reader"). Why csv-core and not `csv::Reader`: the line
//! reader ([`crate::lines::LineReader`]) keeps what the rest of StockStream relies on, byte
//! offsets of each line for checkpoints and rejects, the raw line text of a reject, constant
//! memory, and one bad line never swallowing the next; csv-core parses a byte slice we hand
//! it, so each line goes through it on its own.
//!
//! csv-core never fails: it prefers *a* parse over none. The reader's contract is stricter,
//! and these rules are kept on top of it:
//!
//! - A quote opened and not closed by the end of the line is an error ([`QuoteError`]), not a
//!   field that runs into the next line: OHLCV exports never legitimately hold a line break
//!   in a field, and joining lines would turn one bad row into several lost ones. It is found
//!   by feeding the line's terminator: inside a quoted field csv-core takes it as data.
//! - Text after a closing quote (`"12"3`) is an error; whitespace there is allowed.
//! - Whitespace before an opening quote is allowed (`1,  "x"`): the field starts at the quote.
//! - Unquoted fields are trimmed of whitespace; quoted fields keep their inner spaces.

use csv_core::{ReadFieldResult, ReadRecordResult, Reader, ReaderBuilder, Terminator};

/// A line whose quoting is broken: a quote never closed, or text after a closing quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError;

/// The fields of one line, stored back to back in one reused buffer, so that splitting a
/// line allocates nothing once the buffers have grown to the widest line.
#[derive(Debug, Clone)]
pub struct Fields {
    parser: Reader,
    delimiter: u8,
    /// The fields' text: the line itself, or for a line with quotes, csv-core's unquoted copy.
    text: String,
    /// Each field's start and end in `text`.
    spans: Vec<(usize, usize)>,
    /// csv-core's output and field ends (scratch, grown to the widest line).
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl Default for Fields {
    fn default() -> Self {
        Self {
            parser: parser(b','),
            delimiter: b',',
            text: String::new(),
            spans: vec![],
            out: vec![],
            ends: vec![0; 16],
        }
    }
}

/// A csv-core parser for lines without their terminator, which [`split`](Fields::split)
/// feeds as `\n` (so a `\r` inside a line is data, as it is to the line reader).
fn parser(delimiter: u8) -> Reader {
    let mut parser = ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(Terminator::Any(b'\n'))
        .quote(b'"')
        .double_quote(true)
        .escape(None)
        .comment(None)
        .build();
    prime(&mut parser);
    parser
}

/// csv-core drops a byte-order mark at the start of the first input it is given; the line
/// reader already drops the file's, so one at the start of a later line stays data. An
/// empty line read first leaves the parser at the start of a record, BOM check done.
fn prime(parser: &mut Reader) {
    let (res, _, _) = parser.read_field(b"\n", &mut [0u8; 1]);
    debug_assert_eq!(res, ReadFieldResult::InputEmpty);
}

impl Fields {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the line had no fields (never after a successful split).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i`, trimmed (quoted fields keep their inner spaces).
    pub fn get(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        &self.text[start..end]
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|&(s, e)| &self.text[s..e])
    }

    /// Splits one line (without its terminator) into fields, replacing the previous content.
    pub fn split(&mut self, line: &str, delimiter: u8) -> Result<(), QuoteError> {
        if delimiter != self.delimiter {
            self.parser = parser(delimiter);
            self.delimiter = delimiter;
        }
        self.spans.clear();
        self.text.clear();
        // Room for every byte of the line and the terminator: csv-core's output is never
        // longer than its input, so it never reports a full buffer.
        if self.out.len() <= line.len() {
            self.out.resize(line.len() + 1, 0);
        }
        if line.is_empty() {
            // csv-core skips empty lines; to the reader an empty line is one empty field.
            self.spans.push((0, 0));
            return Ok(());
        }
        let result = if line.as_bytes().contains(&b'"') {
            self.split_quoted(line)
        } else {
            self.split_plain(line)
        };
        if result.is_err() {
            // The parser is inside a quoted field; start the next line afresh.
            self.parser.reset();
            prime(&mut self.parser);
            self.spans.clear();
            self.text.clear();
        }
        result
    }

    /// A line without quotes: one csv-core record. Its fields are the line's bytes between
    /// delimiters, so they are taken from the line itself, trimmed.
    fn split_plain(&mut self, line: &str) -> Result<(), QuoteError> {
        let bytes = line.as_bytes();
        let (mut at, mut nout, mut nend) = (0, 0, 0);
        loop {
            let input: &[u8] = if at < bytes.len() {
                &bytes[at..]
            } else {
                b"\n"
            };
            let (res, nin, n, e) =
                self.parser
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            nout += n;
            nend += e;
            match res {
                ReadRecordResult::Record => break,
                ReadRecordResult::InputEmpty if at < bytes.len() => at += nin,
                ReadRecordResult::OutputEndsFull => {
                    at += nin;
                    let more = self.ends.len() * 2;
                    self.ends.resize(more, 0);
                }
                // Invariant: without a quote, the terminator always ends the record.
                ReadRecordResult::InputEmpty => return Err(QuoteError),
                // Invariant: `out` holds the whole line plus one byte, and the input given is
                // never empty (which is how csv-core is told the data has ended).
                ReadRecordResult::OutputFull | ReadRecordResult::End => {
                    unreachable!("csv-core: {res:?} with room for the line and non-empty input")
                }
            }
        }
        self.text.push_str(line);
        // Field `k` ends `k` delimiters further in the line than in csv-core's output.
        let mut start = 0;
        for (k, &end) in self.ends[..nend].iter().enumerate() {
            let end = end + k;
            let field = &line[start..end];
            let trimmed = field.trim_start();
            let s = start + (field.len() - trimmed.len());
            self.spans.push((s, s + trimmed.trim_end().len()));
            start = end + 1;
        }
        Ok(())
    }

    /// A line with quotes, field by field, checking each quoted field (module doc).
    fn split_quoted(&mut self, line: &str) -> Result<(), QuoteError> {
        let (parser, out, delimiter) = (&mut self.parser, &mut self.out[..], self.delimiter);
        let bytes = line.as_bytes();
        let mut pos = 0;
        let mut nout = 0;
        loop {
            // Whitespace before an opening quote is skipped so that csv-core sees the quote.
            let start = quote_after_blanks(line, pos, delimiter).unwrap_or(pos);
            let quoted = bytes.get(start) == Some(&b'"');
            let out_start = nout;
            let mut at = start;
            let (raw_end, last) = loop {
                let input: &[u8] = if at < bytes.len() {
                    &bytes[at..]
                } else {
                    b"\n"
                };
                let (res, nin, n) = parser.read_field(input, &mut out[nout..]);
                nout += n;
                match res {
                    ReadFieldResult::Field { record_end: true } => break (bytes.len(), true),
                    ReadFieldResult::Field { record_end: false } => {
                        at += nin;
                        break (at - 1, false);
                    }
                    // The terminator was taken as data: a quoted field is still open.
                    ReadFieldResult::InputEmpty if at >= bytes.len() => return Err(QuoteError),
                    ReadFieldResult::InputEmpty => at += nin,
                    // Invariant: as in `split_plain`.
                    ReadFieldResult::OutputFull | ReadFieldResult::End => {
                        unreachable!("csv-core: {res:?} with room for the line and non-empty input")
                    }
                }
            };
            if quoted {
                // Accepted: `"` + escaped text + `"` + whitespace. csv-core copies whatever
                // follows the closing quote, so a field is well formed when its raw text,
                // less trailing whitespace, ends with the quote and is exactly as long as the
                // quotes around the value plus the value with its quotes doubled.
                let raw = &line[start..raw_end];
                let trimmed = raw.trim_end();
                let value_end = nout - (raw.len() - trimmed.len());
                let value = &out[out_start..value_end];
                let escaped = value.len() + value.iter().filter(|&&b| b == b'"').count();
                if !(trimmed.len() >= 2 && trimmed.ends_with('"') && trimmed.len() == escaped + 2) {
                    return Err(QuoteError);
                }
                self.spans.push((out_start, value_end));
            } else {
                // An unquoted field is copied as it is in the line (quotes inside it are
                // data), so it is trimmed there.
                let field = &line[start..raw_end];
                let trimmed = field.trim_start();
                let s = out_start + (field.len() - trimmed.len());
                self.spans.push((s, s + trimmed.trim_end().len()));
            }
            if last {
                break;
            }
            pos = at;
        }
        // Invariant: the fields are the line's bytes less some ASCII quotes, cut at ASCII
        // delimiters, so they are UTF-8 wherever the line is.
        let text = std::str::from_utf8(&out[..nout]).expect("fields of a UTF-8 line are UTF-8");
        self.text.push_str(text);
        Ok(())
    }
}

/// Where a quoted field starts when the field at `pos` is whitespace and then a quote.
fn quote_after_blanks(line: &str, pos: usize, delimiter: u8) -> Option<usize> {
    let rest = &line[pos..];
    let i = rest.find(|c: char| !c.is_whitespace() || c as u32 == u32::from(delimiter))?;
    (rest.as_bytes()[i] == b'"').then_some(pos + i)
}

/// The splitter this replaced, the property test's reference (also the benchmark's peer).
#[cfg(test)]
#[path = "../../benches/support/hand_split.rs"]
mod hand;

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str, delimiter: u8) -> Result<Vec<String>, QuoteError> {
        let mut f = Fields::default();
        f.split(line, delimiter)?;
        Ok(f.iter().map(str::to_string).collect())
    }

    #[test]
    fn splits_plain_and_quoted_fields() {
        let mut f = Fields::default();
        let all = |f: &Fields| f.iter().map(str::to_string).collect::<Vec<_>>();
        f.split(" a , b,,c ", b',').unwrap();
        assert_eq!(all(&f), ["a", "b", "", "c"]);
        f.split(r#""S&P, 500",1,"say ""hi""",  "x" "#, b',')
            .unwrap();
        assert_eq!(all(&f), ["S&P, 500", "1", r#"say "hi""#, "x"]);
        f.split("a;b", b';').unwrap();
        assert_eq!(all(&f), ["a", "b"]);
        assert_eq!(f.split(r#""open,1"#, b','), Err(QuoteError));
        assert_eq!(f.split(r#""1"2,3"#, b','), Err(QuoteError));
        // The parser is usable again after a broken line, and keeps its delimiter.
        f.split("x;\"y\"", b';').unwrap();
        assert_eq!(all(&f), ["x", "y"]);
    }

    #[test]
    fn empty_and_blank_lines_are_one_field() {
        assert_eq!(split("", b',').unwrap(), [""]);
        assert_eq!(split("   ", b',').unwrap(), [""]);
        assert_eq!(split(",", b',').unwrap(), ["", ""]);
        assert_eq!(split(r#""","",,"#, b',').unwrap(), ["", "", "", ""]);
    }

    #[test]
    fn quoted_fields_keep_inner_spaces_and_delimiters() {
        assert_eq!(
            split(r#"  " a, b "  ,c"#, b',').unwrap(),
            [" a, b ", "c"],
            "whitespace before the quote is skipped, the delimiter inside it is data"
        );
        assert_eq!(split(r#""""""""#, b',').unwrap(), [r#""""#]);
        assert_eq!(split("\"a\tb\"\tc", b'\t').unwrap(), ["a\tb", "c"]);
        // A tab delimiter is not whitespace to skip before a quote.
        assert_eq!(split("\t\"x\"", b'\t').unwrap(), ["", "x"]);
    }

    #[test]
    fn quotes_inside_an_unquoted_field_are_data() {
        assert_eq!(split(r#"a"b,5"" x"#, b',').unwrap(), [r#"a"b"#, r#"5"" x"#]);
    }

    #[test]
    fn broken_quotes_are_errors() {
        for line in [
            r#"""#,
            r#"a,""#,
            r#""a"b"#,
            r#""a" x,1"#,
            r#""a"",1"#,
            r#""a" ","#,
            r#"HSI,"2001-07-27,12500,12600"#,
        ] {
            assert_eq!(split(line, b','), Err(QuoteError), "{line}");
        }
        assert_eq!(split(r#""a"  ,1"#, b',').unwrap(), ["a", "1"]);
    }

    #[test]
    fn non_ascii_text_and_a_bom_inside_the_file_are_data() {
        assert_eq!(
            split("\u{feff}Zürich, \"東京, 日本\" ,\u{a0}x\u{a0}", b',').unwrap(),
            ["\u{feff}Zürich", "東京, 日本", "x"]
        );
    }

    #[test]
    fn a_line_wider_than_the_buffers_grows_them() {
        let cells: Vec<String> = (0..40).map(|i| format!(" c{i} ")).collect();
        let mut f = Fields::default();
        f.split(&cells.join(","), b',').unwrap();
        let want: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        assert_eq!(f.iter().collect::<Vec<_>>(), want);
        f.split("a,b", b',').unwrap();
        assert_eq!(f.iter().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_carriage_return_inside_a_line_is_data() {
        assert_eq!(split("a\rb,c", b',').unwrap(), ["a\rb", "c"]);
    }

    proptest::proptest! {
        /// Same fields, or the same refusal, as the hand-written splitter this replaced
        /// (now the benchmark's peer, `benches/support/hand_split.rs`), on lines made of the
        /// bytes that matter: quotes, delimiters, whitespace (ASCII and not) and text.
        #[test]
        fn agrees_with_the_hand_splitter(
            chars in proptest::collection::vec(
                proptest::sample::select(vec!['a', '1', ' ', '"', ',', ';', '\t', '\r', 'é', '\u{a0}']),
                0..24,
            ),
            delimiter in proptest::sample::select(vec![b',', b';', b'\t']),
        ) {
            let line: String = chars.into_iter().collect();
            let mut ours = Fields::default();
            let mut hand = super::hand::Fields::default();
            let ours = ours.split(&line, delimiter).map(|()| ours.iter().map(str::to_string).collect::<Vec<_>>());
            let hand = hand.split(&line, delimiter).map(|()| hand.iter().map(str::to_string).collect::<Vec<_>>());
            proptest::prop_assert_eq!(ours.ok(), hand.ok(), "{:?}", line);
        }
    }
}
