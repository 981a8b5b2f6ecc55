//! Finding and reading the Hunspell dictionaries: `{language}.aff` and `{language}.dic`
//! in the directories Linux systems keep them in, or where `[spell] dictionaries` says.
//! A dictionary that cannot be read is reported and left out; the others still load.

use std::path::{Path, PathBuf};

use super::{Language, Script, SpellConfig, Speller};

/// Where Debian, Ubuntu, Fedora and Arch install Hunspell dictionaries.
pub const SYSTEM_DIRS: &[&str] =
    &["/usr/share/hunspell", "/usr/share/myspell", "/usr/share/myspell/dicts", "/usr/local/share/hunspell"];

/// How to get the dictionaries on Debian and Ubuntu.
pub const INSTALL_HINT: &str = "apt install hunspell-en-us hunspell-ru, or set [spell] dictionaries";

/// A file this size or larger is not a dictionary worth reading (ru_RU is 3.5 MB).
const LARGEST: u64 = 64 << 20;

/// One dictionary's two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub language: String,
    pub aff: PathBuf,
    pub dic: PathBuf,
}

/// The dictionaries the config asks for, where they are; and what could not be found.
pub fn find(config: &SpellConfig) -> (Vec<Found>, Vec<String>) {
    let dirs: Vec<PathBuf> = if config.dictionaries.is_empty() {
        SYSTEM_DIRS.iter().map(PathBuf::from).collect()
    } else {
        config.dictionaries.clone()
    };
    let mut found: Vec<Found> = Vec::new();
    let mut problems = Vec::new();
    // A `.dic` named in the config is loaded whatever the languages say.
    for file in dirs.iter().filter(|p| p.extension().is_some_and(|e| e == "dic")) {
        let language = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let aff = file.with_extension("aff");
        if file.is_file() && aff.is_file() {
            found.push(Found { language, aff, dic: file.clone() });
        } else {
            problems.push(format!("{}: no such dictionary (its .dic and .aff)", file.display()));
        }
    }
    for language in &config.languages {
        if found.iter().any(|f| &f.language == language) {
            continue;
        }
        let hit = dirs.iter().filter(|d| d.is_dir()).find_map(|dir| {
            let dic = dir.join(format!("{language}.dic"));
            let aff = dir.join(format!("{language}.aff"));
            (dic.is_file() && aff.is_file()).then(|| Found { language: language.clone(), aff, dic })
        });
        match hit {
            Some(f) => found.push(f),
            None => problems.push(format!(
                "no {language} dictionary in {}",
                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    (found, problems)
}

/// Reads one dictionary.
pub fn load(found: &Found) -> Result<Language, String> {
    let aff = read(&found.aff)?;
    // Older dictionaries are in KOI8-R or ISO 8859: said so, rather than misread.
    if let Some(encoding) =
        declared_encoding(&String::from_utf8_lossy(&aff)).filter(|e| !e.eq_ignore_ascii_case("UTF-8"))
    {
        return Err(format!(
            "{}: the dictionary is in {encoding}; only UTF-8 dictionaries can be read",
            found.aff.display()
        ));
    }
    let aff = utf8(aff, &found.aff)?;
    let dic = utf8(read(&found.dic)?, &found.dic)?;
    let dictionary = spellbook::Dictionary::new(&aff, &dic).map_err(|e| format!("{}: {e}", found.dic.display()))?;
    Ok(Language { name: found.language.clone(), script: Script::of_language(&found.language), dictionary })
}

/// Finds and reads every dictionary the config asks for: the speller, and a line for
/// each that is missing or unreadable. Takes a while (ru_RU: tens of milliseconds in a
/// release build), so the console calls it off its loop.
pub fn load_all(config: &SpellConfig) -> (Speller, Vec<String>) {
    if !config.enabled {
        return (Speller::default(), Vec::new());
    }
    let (found, mut problems) = find(config);
    let mut languages = Vec::new();
    for f in &found {
        match load(f) {
            Ok(language) => languages.push(language),
            Err(e) => problems.push(e),
        }
    }
    (Speller::new(languages), problems)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    if size >= LARGEST {
        return Err(format!("{}: {size} bytes is too large for a dictionary", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn utf8(mut bytes: Vec<u8>, path: &Path) -> Result<String, String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: not UTF-8 at byte {}; only UTF-8 dictionaries can be read",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The `SET` line of an `.aff` file.
fn declared_encoding(aff: &str) -> Option<String> {
    aff.lines().find_map(|l| l.trim().strip_prefix("SET ").map(|e| e.trim().to_string()))
}
