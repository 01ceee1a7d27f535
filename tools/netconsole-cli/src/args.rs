//! Command-line options, hand-rolled: `--name value` and `--name=value`, with errors that name
//! the bad argument in one line.

use std::fmt::Display;
use std::str::FromStr;

/// Walks one command's arguments, option by option.
pub struct Options<'a> {
    args: std::slice::Iter<'a, String>,
    /// The value given with `=` to the option just returned.
    inline: Option<&'a str>,
}

impl<'a> Options<'a> {
    /// The options in `args` (the words after the command's name).
    pub fn new(args: &'a [String]) -> Self {
        Options { args: args.iter(), inline: None }
    }

    /// The next option's name (`--bind` for both `--bind X` and `--bind=X`), or `None` at the
    /// end. An argument that is not an option is an error.
    pub fn next_name(&mut self) -> Result<Option<&'a str>, String> {
        if let Some(value) = self.inline.take() {
            return Err(format!("unexpected value '{value}'"));
        }
        let Some(arg) = self.args.next() else { return Ok(None) };
        if !arg.starts_with('-') {
            return Err(format!("unexpected argument '{arg}'"));
        }
        match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                self.inline = Some(value);
                Ok(Some(name))
            }
            _ => Ok(Some(arg)),
        }
    }

    /// The value of option `name`, just returned by [`Options::next_name`].
    pub fn value(&mut self, name: &str) -> Result<&'a str, String> {
        self.inline
            .take()
            .or_else(|| self.args.next().map(String::as_str))
            .ok_or_else(|| format!("{name} needs a value"))
    }

    /// The value of option `name`, parsed; `expected` says what it should have been.
    pub fn parsed<T: FromStr>(&mut self, name: &str, expected: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        let value = self.value(name)?;
        value.parse().map_err(|_| invalid(name, value, expected))
    }
}

/// The one-line error for a bad option value.
pub fn invalid(name: &str, value: &str, expected: &str) -> String {
    format!("invalid value '{value}' for {name} (expected {expected})")
}

#[cfg(test)]
mod test {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn both_spellings() {
        let args = words("--count 3 --bind=[::]:1 --flag");
        let mut options = Options::new(&args);
        assert_eq!(options.next_name(), Ok(Some("--count")));
        assert_eq!(options.parsed::<u64>("--count", "a number"), Ok(3));
        assert_eq!(options.next_name(), Ok(Some("--bind")));
        assert_eq!(options.value("--bind"), Ok("[::]:1"));
        assert_eq!(options.next_name(), Ok(Some("--flag")));
        assert_eq!(options.next_name(), Ok(None));
    }

    #[test]
    fn errors_name_the_argument() {
        let args = words("--count x");
        let mut options = Options::new(&args);
        options.next_name().unwrap();
        assert_eq!(
            options.parsed::<u64>("--count", "a number"),
            Err("invalid value 'x' for --count (expected a number)".to_owned())
        );
        let args = words("--count");
        let mut options = Options::new(&args);
        options.next_name().unwrap();
        assert_eq!(options.value("--count"), Err("--count needs a value".to_owned()));
        let args = words("stray");
        assert_eq!(Options::new(&args).next_name(), Err("unexpected argument 'stray'".to_owned()));
        let args = words("--flag=1");
        let mut options = Options::new(&args);
        options.next_name().unwrap();
        assert_eq!(options.next_name(), Err("unexpected value '1'".to_owned()));
    }
}
