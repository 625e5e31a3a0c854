//! Actions: what a key (or the palette) asks for, independent of which key it was.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Save,
    Cancel,
    FocusNext,
    FocusPrev,
    FocusEnvironments,
    FocusCollections,
    FocusRequest,
    FocusResponse,
    Palette,
    Help,
    Quit,
    ForceQuit,
    Up,
    Down,
    Left,
    Right,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Activate,
    Edit,
    New,
    NewFolder,
    NewCollection,
    Rename,
    Duplicate,
    Move,
    Delete,
    EditUrl,
    PickMethod,
    NextTab,
    PrevTab,
    Toggle,
    ExternalEdit,
    CycleBodyKind,
    ToggleWrap,
    ToggleSecret,
    Reveal,
    Close,
    SignIn,
    SignInSettings,
    TokenViewer,
    CopyCurl,
    CopyCurlWithSecrets,
    PasteCurl,
    Import,
    Lookup,
    Capabilities,
    IfMatch,
    Search,
    SearchNext,
    SearchPrev,
    GotoLine,
    Jobs,
    History,
    RequestHistory,
    OpenInBrowser,
    ToggleFold,
    FoldDepth,
    Filter,
    NextRecord,
    PrevRecord,
    ToggleEscapes,
    CopyRequestId,
    // Editing text.
    Finish,
    Complete,
    LineStart,
    LineEnd,
    DeleteToStart,
    DeleteToEnd,
    DeleteWordBack,
    DeleteWordForward,
    WordBack,
    WordForward,
    Undo,
    Redo,
    // The FHIR browser.
    ToggleJson,
    NextReference,
    PrevReference,
    Back,
    Forward,
    Refresh,
    NextPage,
    PrevPage,
    FirstPage,
    LastPage,
    MoreCount,
    LessCount,
    Observations,
    Encounters,
    Conditions,
    Everything,
    Chart,
    // History.
    Resend,
    SaveAs,
    Mark,
    Diff,
    ClearAll,
    ShowAll,
    ScrollRequestDown,
    ScrollRequestUp,
    // Jobs.
    CancelJob,
    Download,
    // Dialogs.
    Yes,
    No,
    HistoryPrev,
    HistoryNext,
    NextField,
    Copy,
    Reload,
    KeepMine,
    SaveCopy,
}

impl Action {
    /// The action's name in `keys.toml`: the variant in snake_case (`CopyCurl` is `copy_curl`).
    /// Derived from the variant so every action has one; the README lists them all and a test
    /// keeps that list in step, so a renamed variant cannot silently break someone's keys.toml.
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn names_are_snake_case() {
        assert_eq!(Action::Send.name(), "send");
        assert_eq!(Action::CopyCurlWithSecrets.name(), "copy_curl_with_secrets");
        assert_eq!(Action::PageDown.name(), "page_down");
        assert_eq!(Action::OpenInBrowser.name(), "open_in_browser");
    }
}
