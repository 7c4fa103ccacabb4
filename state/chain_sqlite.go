package state

import (
	"database/sql/driver"
	"fmt"
	"sync"

	sqlitedrv "modernc.org/sqlite"
)

// sqliteChainHash is the SQL function that links an entry into the audit
// log on SQLite, which has no SHA-256 of its own: vow_chain_hash(prev,
// seq, digest) is [ChainHash] computed from the entry's [EntryDigest].
const sqliteChainHash = "vow_chain_hash"

var (
	registerOnce sync.Once
	registerErr  error
)

// registerFunctions gives the SQLite driver's connections, once per
// process, the functions the store's statements use.
func registerFunctions() error {
	registerOnce.Do(func() {
		registerErr = sqlitedrv.RegisterDeterministicScalarFunction(sqliteChainHash, 3, func(_ *sqlitedrv.FunctionContext, args []driver.Value) (driver.Value, error) {
			var prev []byte
			switch v := args[0].(type) {
			case nil:
			case []byte:
				prev = v
			default:
				return nil, fmt.Errorf("%s: prev must be a blob, not %T", sqliteChainHash, args[0])
			}
			seq, ok := args[1].(int64)
			if !ok {
				return nil, fmt.Errorf("%s: seq must be an integer, not %T", sqliteChainHash, args[1])
			}
			digest, ok := args[2].([]byte)
			if !ok || len(digest) != 32 {
				return nil, fmt.Errorf("%s: digest must be a 32-byte blob", sqliteChainHash)
			}
			if prev == nil && seq != 1 {
				return nil, fmt.Errorf("%s: entry %d is not chained", sqliteChainHash, seq-1)
			}
			return chainLink(prev, seq, digest), nil
		})
	})
	return registerErr
}
