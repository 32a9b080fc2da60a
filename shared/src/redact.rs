//! Passwords never reach a terminal or a log: every URL is shown through [`redact`].

/// Returns `url` with its password, if any, replaced by `***`.
///
/// Works on anything that looks like `scheme://user:password@host...`, also when it is
/// not a valid URL, so that a malformed `DATABASE_URL` can still be quoted safely.
///
/// ```
/// assert_eq!(
///     workbook::redact("mysql://root:secret@127.0.0.1:3306/sales"),
///     "mysql://root:***@127.0.0.1:3306/sales"
/// );
/// assert_eq!(workbook::redact("mysql://root@localhost/sales"), "mysql://root@localhost/sales");
/// ```
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    // The authority ends at the first '/', '?' or '#'; the user info ends at its last
    // '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let user_info = &authority[..at];
    match user_info.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..rest_start],
            &user_info[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// Redacts every `scheme://...` URL that appears in a message.
///
/// ```
/// let msg = "cannot reach mysql://app:hunter2@db:3306/sales (refused)";
/// assert_eq!(workbook::redact_text(msg), "cannot reach mysql://app:***@db:3306/sales (refused)");
/// ```
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // Walk back to the start of the scheme.
        let scheme_start = rest[..pos]
            .rfind(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
            })
            .map_or(0, |i| i + 1);
        let end = rest[pos..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .map_or(rest.len(), |i| pos + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_with_an_at_sign_is_still_hidden() {
        assert_eq!(
            redact("mysql://root:p@ss@127.0.0.1:1/x"),
            "mysql://root:***@127.0.0.1:1/x"
        );
    }

    #[test]
    fn a_url_without_user_info_is_unchanged() {
        assert_eq!(redact("mysql://127.0.0.1/x"), "mysql://127.0.0.1/x");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn several_urls_in_one_message_are_all_redacted() {
        assert_eq!(
            redact_text("a mysql://u:p1@h/x and 'mysql://v:p2@h/y'."),
            "a mysql://u:***@h/x and 'mysql://v:***@h/y'."
        );
    }
}
