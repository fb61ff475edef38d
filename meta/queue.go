package meta

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"
)

// The queue of this device's ops not yet confirmed sent, under
// o:<device>\x00<seq>. A write that makes one op (an edit) stores it as
// its JSON. A write that makes many (an import, a scan, a migration)
// stores them as one pack under the first op's seq:
//
//	z<last seq>:<flate-compressed JSON array of the ops, in seq order>
//
// An import queues one create op per paper, and they stay until sync is
// set up, if ever; buntdb keeps every key in memory and reads the whole file
// at open, so one op per key made the queue the largest part of the store.
// Packed, the same ops take a fraction of the bytes and of the keys.

// packMin is the number of ops from one write from which they are packed.
const packMin = 2

// putOps queues the ops one write made, in seq order and consecutive.
func putOps(tx *buntdb.Tx, ops []*Op) error {
	if len(ops) == 0 {
		return nil
	}
	first, last := ops[0], ops[len(ops)-1]
	if len(ops) < packMin {
		b, err := json.Marshal(first)
		if err != nil {
			return err
		}
		_, _, err = tx.Set(opKey(first.Device, first.Seq), string(b), nil)
		return err
	}
	v, err := encodePack(ops)
	if err != nil {
		return err
	}
	_, _, err = tx.Set(opKey(first.Device, first.Seq), "z"+strconv.FormatUint(last.Seq, 10)+":"+v, nil)
	return err
}

func encodePack(ops []*Op) (string, error) {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	if err := json.NewEncoder(zw).Encode(ops); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// queued is one value of the queue: its first and last seq, and how to
// decode its ops.
type queued struct {
	key         string
	first, last uint64
	val         string
}

func parseQueued(key, val string) (queued, error) {
	q := queued{key: key, val: val}
	i := strings.LastIndexByte(key, 0)
	first, err := strconv.ParseUint(key[i+1:], 10, 64)
	if err != nil {
		return q, fmt.Errorf("queued op key %q: %w", key, err)
	}
	q.first, q.last = first, first
	if strings.HasPrefix(val, "z") {
		n, _, ok := strings.Cut(val[1:], ":")
		if q.last, err = strconv.ParseUint(n, 10, 64); !ok || err != nil || q.last < first {
			return q, fmt.Errorf("queued op pack %q: bad header", key)
		}
	}
	return q, nil
}

func (q queued) count() int { return int(q.last - q.first + 1) }

func (q queued) ops() ([]Op, error) {
	if !strings.HasPrefix(q.val, "z") {
		var op Op
		if err := json.Unmarshal([]byte(q.val), &op); err != nil {
			return nil, fmt.Errorf("queued op %q: %w", q.key, err)
		}
		return []Op{op}, nil
	}
	_, body, _ := strings.Cut(q.val, ":")
	b, err := io.ReadAll(flate.NewReader(strings.NewReader(body)))
	if err != nil {
		return nil, fmt.Errorf("queued op pack %q: %w", q.key, err)
	}
	var ops []Op
	if err := json.Unmarshal(b, &ops); err != nil {
		return nil, fmt.Errorf("queued op pack %q: %w", q.key, err)
	}
	if len(ops) != q.count() {
		return nil, fmt.Errorf("queued op pack %q: %d ops, header says %d", q.key, len(ops), q.count())
	}
	return ops, nil
}

// eachQueued calls fn with the device's queued values in seq order until
// it returns false.
func eachQueued(tx *buntdb.Tx, device string, fn func(q queued) (bool, error)) error {
	prefix := pOp + device + "\x00"
	var ferr error
	err := ascendPrefix(tx, prefix, func(rest, v string) bool {
		var q queued
		if q, ferr = parseQueued(prefix+rest, v); ferr != nil {
			return false
		}
		var more bool
		more, ferr = fn(q)
		return ferr == nil && more
	})
	if err != nil {
		return err
	}
	return ferr
}

// eachQueuedOp calls fn with the device's queued ops in seq order until it
// returns false.
func eachQueuedOp(tx *buntdb.Tx, device string, fn func(op Op) bool) error {
	return eachQueued(tx, device, func(q queued) (bool, error) {
		ops, err := q.ops()
		if err != nil {
			return false, err
		}
		for _, op := range ops {
			if !fn(op) {
				return false, nil
			}
		}
		return true, nil
	})
}

// dropQueued removes the device's ops up to and including seq. A pack that
// straddles seq is rewritten with the ops after it.
func dropQueued(tx *buntdb.Tx, device string, seq uint64) error {
	var done []queued
	err := eachQueued(tx, device, func(q queued) (bool, error) {
		if q.first > seq {
			return false, nil
		}
		done = append(done, q)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, q := range done {
		if _, err := tx.Delete(q.key); err != nil {
			return err
		}
		if q.last <= seq {
			continue
		}
		ops, err := q.ops()
		if err != nil {
			return err
		}
		var rest []*Op
		for i := range ops {
			if ops[i].Seq > seq {
				rest = append(rest, &ops[i])
			}
		}
		if err := putOps(tx, rest); err != nil {
			return err
		}
	}
	return nil
}
