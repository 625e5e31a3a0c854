//! The keys a response's messages name, read from the keymap in force, so a remap in keys.toml
//! shows up in "Esc goes back" as much as in help. The Response pane and a history entry (which
//! falls back to the Response pane's keys) name different keys for going back.

use crate::tui::keys::{Action, Ctx, Keymap};

/// Key labels (`Esc`, `}`, `Ctrl-G`…) for the sentences a response view shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseKeys {
    /// Back from a record or a filter result to the whole body; stops a running filter.
    pub back: String,
    /// Cancels the request in flight.
    pub cancel: String,
    pub next_record: String,
    pub prev_record: String,
    pub fold_depth: String,
    pub search: String,
    pub copy_request_id: String,
}

impl ResponseKeys {
    /// The Response pane's keys.
    pub fn for_response(keymap: &Keymap) -> Self {
        Self::in_ctx(keymap, Ctx::Response, Action::Cancel)
    }

    /// A history entry's keys: its own "back", the Response pane's for the rest.
    pub fn for_history_entry(keymap: &Keymap) -> Self {
        Self::in_ctx(keymap, Ctx::HistoryEntry, Action::Close)
    }

    fn in_ctx(keymap: &Keymap, ctx: Ctx, back: Action) -> Self {
        let say = |a: Action| keymap.say(ctx, a);
        Self {
            back: say(back),
            cancel: keymap.say(Ctx::Response, Action::Cancel),
            next_record: say(Action::NextRecord),
            prev_record: say(Action::PrevRecord),
            fold_depth: say(Action::FoldDepth),
            search: say(Action::Search),
            copy_request_id: say(Action::CopyRequestId),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remap_is_what_the_sentences_name() {
        let keys = "[response]\ncancel = [\"ctrl-g\"]\nnext_record = [\"n\"]\n\n[history_entry]\nclose = [\"q\"]\n";
        let overrides =
            crate::tui::keys::file::parse_keys(std::path::Path::new("keys.toml"), 1, keys)
                .expect("a valid keys file");
        let keymap = Keymap::build(&overrides);
        let response = ResponseKeys::for_response(&keymap);
        assert_eq!(response.back, "Ctrl-G");
        assert_eq!(response.cancel, "Ctrl-G");
        assert_eq!(response.next_record, "n");
        assert_eq!(response.prev_record, "{");
        let entry = ResponseKeys::for_history_entry(&keymap);
        assert_eq!(entry.back, "q");
        // The entry's record keys are the Response pane's, remapped ones included.
        assert_eq!(entry.next_record, "n");
    }
}
