//! Which of an extended record's fields `--format json` writes. A key given twice (sysdata's
//! `release=` next to a userdata key of that name, say) keeps its last value, written where
//! that last value stands: JSON names should be unique (RFC 8259, section 4).
//!
//! Finding each key's later duplicates by walking the rest of the fields cost a record of a
//! few thousand fields millions of key comparisons; a sender could keep a core busy with a
//! couple of thousand datagrams a second. Sorting the fields by key costs n·log n comparisons,
//! in memory that is kept from one record to the next.

use std::cmp::Ordering;
use std::ops::Range;

use netconsole::receive::Message;

/// Where one field's key and value lie in the record's dictionary.
#[derive(Debug, Clone)]
struct Field {
    key: Range<usize>,
    value: Range<usize>,
    /// The same key comes again later: this value is not written.
    superseded: bool,
}

/// The fields of the record last given to [`LastValues::index`], each marked whether a later
/// one has its key. Holds offsets, not slices, so that its memory outlives the record.
#[derive(Debug, Default)]
pub struct LastValues {
    fields: Vec<Field>,
    /// Indices into `fields`, sorted by key, then by position.
    by_key: Vec<usize>,
}

impl LastValues {
    /// Reads `message`'s fields and marks each one whose key comes again later. `compare`
    /// orders two keys (`Ord::cmp`; a test counts its calls).
    pub fn index(
        &mut self,
        message: &Message<'_>,
        mut compare: impl FnMut(&[u8], &[u8]) -> Ordering,
    ) {
        let dict = message.dict;
        self.fields.clear();
        self.fields.extend(message.fields().map(|(key, value)| Field {
            key: span(dict, key),
            value: span(dict, value),
            superseded: false,
        }));
        self.by_key.clear();
        self.by_key.extend(0..self.fields.len());
        let fields = &mut self.fields;
        let key = |fields: &[Field], i: usize| {
            fields.get(i).and_then(|f| dict.get(f.key.clone())).unwrap_or_default()
        };
        // Unstable sort: no allocation, and n·log n comparisons at worst. Ties broken by
        // position, so among equal keys the last comes last.
        self.by_key
            .sort_unstable_by(|&a, &b| compare(key(fields, a), key(fields, b)).then(a.cmp(&b)));
        for pair in self.by_key.windows(2) {
            let [earlier, later] = *pair else { continue };
            if compare(key(fields, earlier), key(fields, later)) == Ordering::Equal {
                if let Some(field) = fields.get_mut(earlier) {
                    field.superseded = true;
                }
            }
        }
    }

    /// The fields to write, in the record's order, as `(key, value)`: `message` is the one
    /// last given to [`LastValues::index`].
    pub fn kept<'d>(
        &self,
        message: &Message<'d>,
    ) -> impl Iterator<Item = (&'d [u8], &'d [u8])> + use<'_, 'd> {
        let dict = message.dict;
        self.fields.iter().filter(|field| !field.superseded).map(move |field| {
            let part = |range: &Range<usize>| dict.get(range.clone()).unwrap_or_default();
            (part(&field.key), part(&field.value))
        })
    }
}

/// Where `part`, a slice [`Message::fields`] took from `dict`, lies in it.
fn span(dict: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr().addr().wrapping_sub(dict.as_ptr().addr());
    start..start.saturating_add(part.len())
}

#[cfg(test)]
mod test {
    use super::*;
    use netconsole::receive::Header;

    fn record(dict: &[u8]) -> Message<'_> {
        let header = Header {
            facility: 0,
            level: 6,
            seq: 1,
            ts_us: 100,
            cont: false,
            caller: None,
            release: None,
        };
        let addr = "10.0.0.1:6665".parse().unwrap();
        Message {
            src: addr,
            local: addr,
            header: Some(header),
            text: b"",
            dict,
            complete: true,
            continues: false,
            missing_before: 0,
        }
    }

    #[test]
    fn kept_in_order_with_their_last_values() {
        let message = record(b" a=1\n b=1\n a=2\nnot a field\n =e\n b=\n a=3\n");
        let mut last = LastValues::default();
        last.index(&message, <[u8]>::cmp);
        let kept: Vec<_> = last.kept(&message).collect();
        assert_eq!(kept, [(&b""[..], &b"e"[..]), (b"b", b""), (b"a", b"3")]);
        // Reused for a record with no fields, then one without duplicates.
        let empty = record(b"");
        last.index(&empty, <[u8]>::cmp);
        assert_eq!(last.kept(&empty).count(), 0);
        let distinct = record(b" x=1\n y=2\n");
        last.index(&distinct, <[u8]>::cmp);
        assert_eq!(
            last.kept(&distinct).collect::<Vec<_>>(),
            [(&b"x"[..], &b"1"[..]), (b"y", b"2")]
        );
    }

    /// A record of 4,000 fields, half of them repeating a key, within n·log n comparisons
    /// (the walk over later fields took six million).
    #[test]
    fn many_fields_cost_n_log_n_comparisons() {
        let n = 4000;
        let mut dict = Vec::new();
        for i in 0..n {
            dict.extend_from_slice(format!(" k{}=v{i}\n", i % (n / 2)).as_bytes());
        }
        let mut last = LastValues::default();
        let mut comparisons = 0u64;
        let message = record(&dict);
        last.index(&message, |a, b| {
            comparisons += 1;
            a.cmp(b)
        });
        let kept: Vec<_> = last.kept(&message).collect();
        assert_eq!(kept.len(), n / 2);
        for (j, (key, value)) in kept.into_iter().enumerate() {
            assert_eq!(
                (key, value),
                (format!("k{j}").as_bytes(), format!("v{}", j + n / 2).as_bytes())
            );
        }
        let budget = 3 * n * n.ilog2() as usize;
        assert!(comparisons <= budget as u64, "{comparisons} comparisons, budget {budget}");
    }
}
