package store

import (
	"fmt"
	"strconv"
	"strings"
)

// IDs is a list of row ids kept in one column, in order: BIGINT[] on
// PostgreSQL, a JSON array of integers (TEXT) on SQLite. It scans either
// form; NULL scans as an empty list. Write it with DB.IDsArg and DB.IDsValue.
type IDs []int64

// Scan implements sql.Scanner for a column written as IDs.
func (l *IDs) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return fmt.Errorf("id list: cannot scan %T", src)
	}
	s = strings.TrimSpace(s)
	if len(s) < 2 || !(s[0] == '{' && s[len(s)-1] == '}' || s[0] == '[' && s[len(s)-1] == ']') {
		return fmt.Errorf("id list: want {…} or […], got %.40q", s)
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	out := (*l)[:0]
	if body != "" {
		for f := range strings.SplitSeq(body, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return fmt.Errorf("id list %.40q: %w", s, err)
			}
			out = append(out, id)
		}
	}
	*l = out
	return nil
}

// IDsType is the column type of an id list.
func (db *DB) IDsType() string {
	if db.Dialect == Postgres {
		return "BIGINT[]"
	}
	return "TEXT"
}

// IDsArg is the placeholder for an id list parameter (a DB.IDsValue).
func (db *DB) IDsArg() string {
	if db.Dialect == Postgres {
		return "CAST(? AS BIGINT[])"
	}
	return "?"
}

// IDsValue is ids as a parameter for IDsArg: "{1,2}" on PostgreSQL, "[1,2]" on SQLite.
func (db *DB) IDsValue(ids []int64) string {
	open, end := byte('['), byte(']')
	if db.Dialect == Postgres {
		open, end = '{', '}'
	}
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, open)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, end))
}

// EachID is a FROM item with one row per id of the id list column col, its id
// in alias.value: unnest(col) AS alias(value) on PostgreSQL, json_each(col) AS
// alias on SQLite. A NULL list has no rows.
func (db *DB) EachID(col, alias string) string {
	if db.Dialect == Postgres {
		return "unnest(" + col + ") AS " + alias + "(value)"
	}
	return "json_each(" + col + ") AS " + alias
}

// IDsAgg aggregates the integer expr into an id list that scans as IDs
// (NULL or empty when there are no rows).
func (db *DB) IDsAgg(expr string) string {
	if db.Dialect == Postgres {
		return "array_agg(" + expr + ")"
	}
	return "json_group_array(" + expr + ")"
}

// IDsLen is the number of ids in the id list column col (0 for NULL).
func (db *DB) IDsLen(col string) string {
	if db.Dialect == Postgres {
		return "COALESCE(cardinality(" + col + "), 0)"
	}
	return "COALESCE(json_array_length(" + col + "), 0)"
}
