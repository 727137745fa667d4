"""Reading users' files: readers for CSV, XLSX and Parquet, and the mapping file."""

from gm_eval.io.mapping import Mapping, TableMapping, load_mapping
from gm_eval.io.readers import RawTable, find_table_files, read_data_dir, read_table_file

__all__ = [
    "Mapping",
    "TableMapping",
    "load_mapping",
    "RawTable",
    "find_table_files",
    "read_data_dir",
    "read_table_file",
]
