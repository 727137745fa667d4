"""Regenerate the hostile-input corpus: ``python tests/hostile/make_corpus.py``.

Each entry replaces one table of ``tests/fixtures/minimal`` with a hostile file.
``expect: reject`` entries must give a clear message naming the problem, exit 2,
write nothing and leave the input byte-identical; ``expect: accept`` entries are
legitimate but dangerous-looking input that must be read and neutralised
(formulas made inert in CSV, markup escaped in HTML).
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
MINIMAL = HERE.parent / "fixtures" / "minimal"


def base(name: str) -> str:
    return (MINIMAL / name).read_text(encoding="utf-8")


def sub(name: str, old: str, new: str) -> str:
    text = base(name)
    assert old in text, (name, old)
    return text.replace(old, new, 1)


M, C, W = "mechanisms.csv", "cases.csv", "worker_survey.csv"
CS, CH, FU, WF = "child_survey.csv", "clms_children.csv", "clms_followups.csv", "workforce.csv"
ENTRIES: list[dict] = []


def add(file: str, target: str, expect: str, match: str, content: str | bytes, why: str) -> None:
    ENTRIES.append({"file": file, "target": target, "expect": expect, "match": match,
                    "why": why, "_content": content})


# --- encodings and file shapes
add("utf16le_bom.csv", M, "accept", "", base(M).replace("Factory", "โรงงาน").encode("utf-16"),
    "UTF-16 with a byte-order mark is unambiguous and read")
add("utf16le_no_bom.csv", M, "reject", "not utf-8 text|NUL bytes",
    base(M).encode("utf-16-le"), "UTF-16 without BOM cannot be told from binary")
add("utf16be_no_bom.csv", C, "reject", "not utf-8 text|NUL bytes",
    base(C).encode("utf-16-be"), "UTF-16 big-endian without BOM")
add("latin1.csv", M, "reject", "not utf-8 text.*encoding",
    base(M).replace("Factory helpline", "Línea de fábrica").encode("latin-1"),
    "Latin-1 bytes are refused with advice to save as CSV UTF-8")
add("cp1252_quotes.csv", C, "reject", "not utf-8 text",
    sub(C, "S1,2025-01-10", "S\u20191,2025-01-10").encode("cp1252"), "Windows-1252 curly quote")
add("thai.csv", M, "accept", "", sub(M, "Factory helpline", "สายด่วนโรงงานสิ่งทอ"),
    "Thai text in a display name")
add("khmer.csv", M, "accept", "", sub(M, "Supplier hotline", "ខ្សែទូរស័ព្ទអ្នកផ្គត់ផ្គង់"),
    "Khmer text in a display name")
add("bengali.csv", M, "accept", "", sub(M, "Cocoa CLMS", "শিশুশ্রম পর্যবেক্ষণ"),
    "Bengali text in a display name")
add("bom_utf8.csv", C, "accept", "", b"\xef\xbb\xbf" + base(C).encode("utf-8"),
    "UTF-8 BOM before the header")
add("crlf.csv", C, "accept", "", base(C).replace("\n", "\r\n"), "Windows line endings")
add("semicolon.csv", WF, "accept", "", base(WF).replace(",", ";"), "semicolon-separated")
add("empty.csv", C, "reject", "empty", b"", "zero bytes")
add("whitespace_only.csv", C, "reject", "empty", b"  \n\n \n", "only blank lines")
add("header_only_mechanisms.csv", M, "reject", "no rows",
    base(M).splitlines()[0] + "\n", "mechanisms with a header and no rows")
add("ragged_long.csv", C, "reject", r"row 3.*fields",
    sub(C, "c2,M1,S1", "c2,M1,S1,extra"), "a row with too many fields")
add("ragged_short.csv", C, "reject", r"row 4.*fields",
    sub(C, "c3,M2,,2025-03-05,", "c3,M2,2025-03-05,"), "a row with too few fields")
add("unbalanced_quote.csv", C, "reject", r"fields|is not|blank",
    sub(C, "c2,M1,S1", 'c2,"M1,S1'), "an opening quote never closed swallows the rest")
add("nul_bytes.csv", C, "reject", "NUL", base(C).encode() + b"\x00\x00garbage",
    "binary garbage after the text")
add("duplicate_header.csv", C, "reject", "appears twice",
    sub(C, "site_id", "case_id"), "two columns with one name")
add("megabyte_cell_id.csv", C, "reject", r"case_id.*too long",
    sub(C, "c3,M2", "c" + "x" * 1_048_576 + ",M2"), "a one-megabyte case id")
add("megabyte_cell_dropped.csv", C, "accept", "",
    sub(C, "referred_to\n", "referred_to,description\n").replace(
        ",none\n", ",none," + "A" * 1_048_576 + "\n", 1).replace(
        "\nc2", ",\nc2", 0).replace(",child_protection\n", ",child_protection,\n").replace(
        "true,other,low,,,,\n", "true,other,low,,,,,\n"),
    "a one-megabyte free-text cell in a column that is dropped")
add("not_a_workbook.xlsx", C, "reject", "not a readable .xlsx", b"PK\x03\x04 not really a zip",
    "a CSV renamed .xlsx")
add("corrupt.parquet", C, "reject", "not a readable Parquet", b"PAR1garbagePAR1",
    "broken Parquet")
# --- formulas and markup (accepted, neutralised on output)
add("formula_hyperlink.csv", M, "accept", "",
    sub(M, "Factory helpline", '"=HYPERLINK(""http://evil.example/x"",""click"")"'),
    "formula injection in a display name")
add("formula_cmd.csv", M, "accept", "", sub(M, "Supplier hotline", "+cmd|' /C calc'!A0"),
    "DDE-style command in a display name")
add("formula_at.csv", M, "accept", "", sub(M, "Cocoa CLMS", "@SUM(1+1)*cmd|' /C calc'!A0"),
    "@-formula in a display name")
add("formula_minus_site.csv", C, "accept", "", base(C).replace("M1,S1,", "M1,-2+3+cmd|' /C calc'!A0,"),
    "formula in a site id that reaches disaggregation tables")
add("html_script_name.csv", M, "accept", "",
    sub(M, "Factory helpline", "<script>alert('x')</script><img src=x onerror=alert(1)>"),
    "script and markup in a display name")
# --- ids used in file names
add("id_path_traversal.csv", M, "reject", r"mechanism_id.*not allowed",
    base(M).replace("M3,C2", "../../etc/passwd,C2").replace("M3", "../../etc/passwd"),
    "path traversal in a mechanism id")
add("id_dotdot_company.csv", M, "reject", r"company_id.*not allowed", sub(M, "M3,C2", "M3,.."),
    "'..' as a company id")
add("id_slash.csv", M, "reject", r"mechanism_id.*not allowed", sub(M, "M2,C1", "M2/evil,C1"),
    "a slash in a mechanism id")
add("id_space_semicolon.csv", M, "reject", r"mechanism_id.*not allowed",
    sub(M, "M2,C1", '"M2; rm -rf ~",C1'), "shell characters in a mechanism id")
add("id_sector_html.csv", M, "reject", r"sector.*not allowed",
    sub(M, "agriculture", "<b>agri</b>"), "markup in a sector used in file names")
add("duplicate_mechanism.csv", M, "reject", r"row 3.*duplicates row 2",
    sub(M, "M2,C1", "M1,C1"), "two mechanisms with one id")
add("duplicate_case.csv", C, "reject", r"row 4.*duplicates row 2", sub(C, "c3,M2", "c1,M1"),
    "two cases with one id in one mechanism")
add("blank_mechanism_id.csv", C, "reject", r"row 4.*mechanism_id.*blank", sub(C, "c3,M2", "c3,"),
    "a case without a mechanism")
# --- dates
for fmt_name, value in ([
        ("dmy_slash", "10/01/2025"), ("month_name", "January 10, 2025"), ("compact", "20250110"),
        ("d_mon_yy", "10-Jan-25"), ("ymd_slash", "2025/01/10")]):
    add(f"date_{fmt_name}.csv", C, "reject", r"row 2, column received_at.*is not a date",
        sub(C, "c1,M1,S1,2025-01-10", f'c1,M1,S1,"{value}"'), f"date written as {value}")
add("date_excel_serial.csv", C, "accept", "", sub(C, "c1,M1,S1,2025-01-10", "c1,M1,S1,45667"),
    "an Excel serial date (45667 = 2025-01-10)")
add("date_feb30.csv", C, "reject", r"row 2, column received_at.*is not a date",
    sub(C, "c1,M1,S1,2025-01-10", "c1,M1,S1,2025-02-30"), "a day that does not exist")
add("date_1899.csv", C, "reject", r"before 1990", sub(C, "c1,M1,S1,2025-01-10", "c1,M1,S1,1899-12-31"),
    "an implausible year")
add("date_future.csv", C, "reject", r"row 4, column received_at.*future",
    sub(C, "c3,M2,,2025-03-05", "c3,M2,,2099-03-05"), "a date in the future")
add("closed_before_received.csv", C, "reject", r"row 2, column closed_at.*before received_at",
    sub(C, "2025-01-12,2025-01-30", "2025-01-12,2024-12-30"), "closure before receipt")
add("followup_before_identification.csv", FU, "reject", r"visit_date.*before the child",
    sub(FU, "ch1,M3,2024-09-01", "ch1,M3,2024-01-01"), "a visit before the child was identified")
# --- numbers and categories
add("age_minus_one.csv", C, "reject", r"row 2, column age.*out of range",
    sub(C, "worker,34,female", "worker,-1,female"), "age -1")
add("age_200.csv", C, "reject", r"row 2, column age.*out of range",
    sub(C, "worker,34,female", "worker,200,female"), "age 200")
add("age_huge.csv", C, "reject", r"row 2, column age.*(out of range|not a whole number)",
    sub(C, "worker,34,female", "worker,99999999999999999999999,female"), "an enormous age")
add("age_fraction.csv", C, "reject", r"row 2, column age.*not a whole number",
    sub(C, "worker,34,female", "worker,15.5,female"), "a fractional age")
add("likert_zero.csv", W, "reject", r"row 2, column trust.*out of range",
    sub(W, "yes,yes,4,3,2", "yes,yes,0,3,2"), "Likert 0")
add("likert_six.csv", W, "reject", r"row 3, column fear_retaliation.*out of range",
    sub(W, "no,no,2,2,4,2", "no,no,2,2,6,2"), "Likert 6")
add("likert_text.csv", W, "reject", r"row 2, column trust.*not a whole number",
    sub(W, "yes,yes,4,3,2", "yes,yes,agree,3,2"), "a Likert answer as a word")
add("unknown_category.csv", C, "reject", r"row 2, column category.*not an allowed value",
    sub(C, "no,wages_benefits", "no,bribery"), "an unknown category")
add("unknown_channel.csv", C, "reject", r"row 3, column channel.*not an allowed value",
    sub(C, "open,sms_chat", "open,carrier_pigeon"), "an unknown channel")
add("bad_boolean.csv", C, "reject", r"row 2, column anonymous.*yes/no",
    sub(C, "female,no,wages", "female,perhaps,wages"), "a yes/no answer that is neither")
add("child_survey_age_19.csv", CS, "reject", r"row 3, column age.*out of range",
    sub(CS, "k2,M3,2025-03-02,15", "k2,M3,2025-03-02,19"), "an adult in the child survey")
add("negative_headcount.csv", WF, "reject", r"row 2, column headcount.*out of range",
    sub(WF, "M1,S1,500", "M1,S1,-500"), "a negative headcount")
add("unknown_mechanism.csv", CH, "reject", r"mechanism_id.*not a mechanism_id",
    sub(CH, "ch2,M3", "ch2,M404"), "a child recorded under an unknown mechanism")


def main() -> None:
    for old in HERE.iterdir():
        if old.name not in ("make_corpus.py", "corpus.yaml", "unsafe_mapping.yml", "__init__.py"):
            old.unlink()
    listing = []
    for e in ENTRIES:
        content = e.pop("_content")
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (HERE / e["file"]).write_bytes(data)
        listing.append(e)
    (HERE / "unsafe_mapping.yml").write_text(
        "tables: !!python/object/apply:os.system ['echo pwned > /tmp/gm-eval-pwned']\n")
    (HERE / "corpus.yaml").write_text(
        "# generated by make_corpus.py: one hostile file per entry\n"
        + yaml.safe_dump(listing, sort_keys=False, allow_unicode=True, width=100))
    print(f"wrote {len(listing)} hostile files and corpus.yaml to {HERE}")


if __name__ == "__main__":
    main()
