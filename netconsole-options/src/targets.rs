//! The whole option string: `init_netconsole`'s `strsep(&input, ";")` loop.

use crate::error::{ParseError, ParseErrorKind};
use crate::parse::{parse_piece, Parsed};
use crate::MAX_OPTION_LEN;
use core::iter::FusedIterator;

/// The `;`-separated targets of an option string, each parsed on its own, in order.
///
/// Made by [`targets`](crate::targets) and [`targets_bytes`](crate::targets_bytes). As in
/// Linux, every piece is parsed, empty ones included (`a;`, `a;;b` hold empty pieces, which
/// fail), and an empty option string holds no target at all. An option string over 255 bytes
/// yields one [`OptionStringTooLong`](ParseErrorKind::OptionStringTooLong) error and nothing
/// else. Offsets in the results count from the start of the whole string.
#[derive(Debug, Clone)]
pub struct Targets<'a> {
    /// What is left to split, and its offset in the whole string; `None` when done.
    rest: Option<(&'a [u8], usize)>,
    /// The length error still to yield.
    too_long: Option<usize>,
}

impl<'a> Targets<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        let input = crate::c_string(input);
        if input.len() > MAX_OPTION_LEN {
            Targets { rest: None, too_long: Some(input.len()) }
        } else if input.is_empty() {
            Targets { rest: None, too_long: None }
        } else {
            Targets { rest: Some((input, 0)), too_long: None }
        }
    }
}

impl<'a> Iterator for Targets<'a> {
    type Item = Result<Parsed, ParseError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(len) = self.too_long.take() {
            let kind = ParseErrorKind::OptionStringTooLong { len };
            return Some(Err(ParseError::new(kind, MAX_OPTION_LEN, &[])));
        }
        let (rest, offset) = self.rest?;
        let (piece, next) = match rest.iter().position(|&b| b == b';') {
            Some(i) => {
                (rest.get(..i).unwrap_or(&[]), rest.get(i + 1..).map(|r| (r, offset + i + 1)))
            }
            None => (rest, None),
        };
        self.rest = next;
        Some(parse_piece(piece).map(|p| p.shifted(offset)).map_err(|e| e.shifted(offset)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.too_long.is_some() {
            return (1, Some(1));
        }
        match self.rest {
            Some((rest, _)) => {
                let n = 1 + rest.iter().filter(|&&b| b == b';').count();
                (n, Some(n))
            }
            None => (0, Some(0)),
        }
    }
}

impl ExactSizeIterator for Targets<'_> {}
impl FusedIterator for Targets<'_> {}
