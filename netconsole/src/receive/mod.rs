//! The receiver: parses netconsole datagrams and reassembles `ncfrag` fragments in fixed memory.
//!
//! Not implemented yet.
