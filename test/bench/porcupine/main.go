// Times Porcupine v1.3.0 on the histories in test/fixtures/porcupine, for `npm run bench:checker`,
// which runs it beside Skepsis's checker (same machine, same minutes) and prints the ratios.
//
// The models and log parsers below are Porcupine's own, copied from its porcupine_test.go at
// v1.3.0 (MIT licence, Copyright (c) Anish Athalye; see ../../fixtures/porcupine/LICENSE.md). Only
// the timing loop and the JSON output are ours.
//
// Usage: porcupine-bench -min-runs 5 -min-ms 100 -warm-ms 50 FILE...
// A file under jepsen/ is an etcd log (one CAS register); a file under kv/ is checked split by
// key ("split") and whole ("whole"). One JSON object per line: file, mode, ms (median), runs, valid.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"skepsis.local/porcupine-bench/porcupine"
)

type (
	Model     = porcupine.Model
	Event     = porcupine.Event
	Operation = porcupine.Operation
)

const (
	CallEvent   = porcupine.CallEvent
	ReturnEvent = porcupine.ReturnEvent
)

// ---- From Porcupine's porcupine_test.go (v1.3.0), unchanged but for the package prefix. ----

type etcdInput struct {
	op   uint8 // 0 => read, 1 => write, 2 => cas
	arg1 int   // used for write, or for CAS from argument
	arg2 int   // used for CAS to argument
}

type etcdOutput struct {
	ok      bool // used for CAS
	exists  bool // used for read
	value   int  // used for read
	unknown bool // used when operation times out
}

var etcdModel = Model{
	Init: func() interface{} { return -1000000 }, // -1000000 corresponds with nil
	Step: func(state interface{}, input interface{}, output interface{}) (bool, interface{}) {
		st := state.(int)
		inp := input.(etcdInput)
		out := output.(etcdOutput)
		if inp.op == 0 {
			// read
			ok := (out.exists == false && st == -1000000) || (out.exists == true && st == out.value) || out.unknown
			return ok, state
		} else if inp.op == 1 {
			// write
			return true, inp.arg1
		} else {
			// cas
			ok := (inp.arg1 == st && out.ok) || (inp.arg1 != st && !out.ok) || out.unknown
			result := st
			if inp.arg1 == st {
				result = inp.arg2
			}
			return ok, result
		}
	},
}

func parseJepsenLog(filename string) []Event {
	file, err := os.Open(filename)
	if err != nil {
		panic("can't open file")
	}
	defer file.Close()

	reader := bufio.NewReader(file)

	invokeRead, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:invoke\s+:read\s+nil$`)
	invokeWrite, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:invoke\s+:write\s+(\d+)$`)
	invokeCas, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:invoke\s+:cas\s+\[(\d+)\s+(\d+)\]$`)
	returnRead, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:ok\s+:read\s+(nil|\d+)$`)
	returnWrite, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:ok\s+:write\s+(\d+)$`)
	returnCas, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(ok|fail)\s+:cas\s+\[(\d+)\s+(\d+)\]$`)
	timeoutRead, _ := regexp.Compile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:fail\s+:read\s+:timed-out$`)

	var events []Event = nil

	id := 0
	procIdMap := make(map[int]int)
	for {
		lineBytes, isPrefix, err := reader.ReadLine()
		if err == io.EOF {
			break
		} else if err != nil {
			panic("error while reading file: " + err.Error())
		}
		if isPrefix {
			panic("can't handle isPrefix")
		}
		line := string(lineBytes)

		switch {
		case invokeRead.MatchString(line):
			args := invokeRead.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: etcdInput{op: 0}, Id: id})
			procIdMap[proc] = id
			id++
		case invokeWrite.MatchString(line):
			args := invokeWrite.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			value, _ := strconv.Atoi(args[2])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: etcdInput{op: 1, arg1: value}, Id: id})
			procIdMap[proc] = id
			id++
		case invokeCas.MatchString(line):
			args := invokeCas.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			from, _ := strconv.Atoi(args[2])
			to, _ := strconv.Atoi(args[3])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: etcdInput{op: 2, arg1: from, arg2: to}, Id: id})
			procIdMap[proc] = id
			id++
		case returnRead.MatchString(line):
			args := returnRead.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			exists := false
			value := 0
			if args[2] != "nil" {
				exists = true
				value, _ = strconv.Atoi(args[2])
			}
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: etcdOutput{exists: exists, value: value}, Id: matchId})
		case returnWrite.MatchString(line):
			args := returnWrite.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: etcdOutput{}, Id: matchId})
		case returnCas.MatchString(line):
			args := returnCas.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: etcdOutput{ok: args[2] == "ok"}, Id: matchId})
		case timeoutRead.MatchString(line):
			// timing out a read and then continuing operations is fine
			// we could just delete the read from the events, but we do this the lazy way
			args := timeoutRead.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			// okay to put the return here in the history
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: etcdOutput{unknown: true}, Id: matchId})
		}
	}

	for proc, matchId := range procIdMap {
		events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: etcdOutput{unknown: true}, Id: matchId})
	}

	return events
}

type kvInput struct {
	op    uint8 // 0 => get, 1 => put, 2 => append
	key   string
	value string
}

type kvOutput struct {
	value string
}

var kvModel = Model{
	Partition: func(history []Operation) [][]Operation {
		m := make(map[string][]Operation)
		for _, v := range history {
			key := v.Input.(kvInput).key
			m[key] = append(m[key], v)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ret := make([][]Operation, 0, len(keys))
		for _, k := range keys {
			ret = append(ret, m[k])
		}
		return ret
	},
	PartitionEvent: func(history []Event) [][]Event {
		m := make(map[string][]Event)
		match := make(map[int]string) // id -> key
		for _, v := range history {
			if v.Kind == CallEvent {
				key := v.Value.(kvInput).key
				m[key] = append(m[key], v)
				match[v.Id] = key
			} else {
				key := match[v.Id]
				m[key] = append(m[key], v)
			}
		}
		var ret [][]Event
		for _, v := range m {
			ret = append(ret, v)
		}
		return ret
	},
	Init: func() interface{} {
		// note: we are modeling a single key's value here;
		// we're partitioning by key, so this is okay
		return ""
	},
	Step: func(state, input, output interface{}) (bool, interface{}) {
		inp := input.(kvInput)
		out := output.(kvOutput)
		st := state.(string)
		if inp.op == 0 {
			// get
			return out.value == st, state
		} else if inp.op == 1 {
			// put
			return true, inp.value
		} else {
			// append
			return true, (st + inp.value)
		}
	},
	Hash: func(state interface{}) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
}

// uses a map[string]string to represent the state, and doesn't do partitioning
//
// this is a silly way to do things (it's way slower!) but good for
// demonstration, testing, and benchmark purposes
var kvNoPartitionModel = Model{
	Init: func() interface{} {
		return make(map[string]string)
	},
	Step: func(state, input, output interface{}) (bool, interface{}) {
		inp := input.(kvInput)
		out := output.(kvOutput)
		st := state.(map[string]string)
		if inp.op == 0 {
			// get
			return out.value == st[inp.key], state
		} else if inp.op == 1 {
			// put
			st2 := cloneMap(st)
			st2[inp.key] = inp.value
			return true, st2
		} else {
			// append
			st2 := cloneMap(st)
			st2[inp.key] = st2[inp.key] + inp.value
			return true, st2
		}
	},
	Equal: func(state1, state2 interface{}) bool {
		s1 := state1.(map[string]string)
		s2 := state2.(map[string]string)
		if len(s1) != len(s2) {
			return false
		}
		for k, v := range s1 {
			if s2[k] != v {
				return false
			}
		}
		return true
	},
	Hash: func(state interface{}) uint64 {
		st := state.(map[string]string)
		var h uint64
		for k, v := range st {
			kh := fnv.New64a()
			kh.Write([]byte(k))
			kh.Write([]byte(v))
			h ^= kh.Sum64()
		}
		return h
	},
}

func cloneMap(m map[string]string) map[string]string {
	m2 := make(map[string]string)
	for k, v := range m {
		m2[k] = v
	}
	return m2
}

func parseKvLog(filename string) []Event {
	file, err := os.Open(filename)
	if err != nil {
		panic("can't open file")
	}
	defer file.Close()

	reader := bufio.NewReader(file)

	invokeGet, _ := regexp.Compile(`{:process (\d+), :type :invoke, :f :get, :key "(.*)", :value nil}`)
	invokePut, _ := regexp.Compile(`{:process (\d+), :type :invoke, :f :put, :key "(.*)", :value "(.*)"}`)
	invokeAppend, _ := regexp.Compile(`{:process (\d+), :type :invoke, :f :append, :key "(.*)", :value "(.*)"}`)
	returnGet, _ := regexp.Compile(`{:process (\d+), :type :ok, :f :get, :key ".*", :value "(.*)"}`)
	returnPut, _ := regexp.Compile(`{:process (\d+), :type :ok, :f :put, :key ".*", :value ".*"}`)
	returnAppend, _ := regexp.Compile(`{:process (\d+), :type :ok, :f :append, :key ".*", :value ".*"}`)

	var events []Event = nil

	id := 0
	procIdMap := make(map[int]int)
	for {
		lineBytes, isPrefix, err := reader.ReadLine()
		if err == io.EOF {
			break
		} else if err != nil {
			panic("error while reading file: " + err.Error())
		}
		if isPrefix {
			panic("can't handle isPrefix")
		}
		line := string(lineBytes)

		switch {
		case invokeGet.MatchString(line):
			args := invokeGet.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: kvInput{op: 0, key: args[2]}, Id: id})
			procIdMap[proc] = id
			id++
		case invokePut.MatchString(line):
			args := invokePut.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: kvInput{op: 1, key: args[2], value: args[3]}, Id: id})
			procIdMap[proc] = id
			id++
		case invokeAppend.MatchString(line):
			args := invokeAppend.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			events = append(events, Event{ClientId: proc, Kind: CallEvent, Value: kvInput{op: 2, key: args[2], value: args[3]}, Id: id})
			procIdMap[proc] = id
			id++
		case returnGet.MatchString(line):
			args := returnGet.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: kvOutput{args[2]}, Id: matchId})
		case returnPut.MatchString(line):
			args := returnPut.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: kvOutput{}, Id: matchId})
		case returnAppend.MatchString(line):
			args := returnAppend.FindStringSubmatch(line)
			proc, _ := strconv.Atoi(args[1])
			matchId := procIdMap[proc]
			delete(procIdMap, proc)
			events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: kvOutput{}, Id: matchId})
		}
	}

	for proc, matchId := range procIdMap {
		events = append(events, Event{ClientId: proc, Kind: ReturnEvent, Value: kvOutput{}, Id: matchId})
	}

	return events
}

// ---- The timing loop (ours). ----

type figure struct {
	File  string  `json:"file"`
	Mode  string  `json:"mode"`
	Ms    float64 `json:"ms"`
	Runs  int     `json:"runs"`
	Valid bool    `json:"valid"`
}

// timeCheck warms up for warmMs (at least one run), then checks at least minRuns times and for at
// least minMs in all (at most maxRuns), as the TypeScript side does; the median run in ms.
func timeCheck(model Model, events []Event, minRuns int, minMs, warmMs float64, maxRuns int) (float64, int, bool) {
	valid := false
	for spent := 0.0; spent < warmMs || spent == 0; {
		started := time.Now()
		valid = porcupine.CheckEvents(model, events)
		spent += float64(time.Since(started).Nanoseconds()) / 1e6
	}
	var times []float64
	spent := 0.0
	for run := 0; run < minRuns || (spent < minMs && run < maxRuns); run++ {
		started := time.Now()
		valid = porcupine.CheckEvents(model, events)
		ms := float64(time.Since(started).Nanoseconds()) / 1e6
		times = append(times, ms)
		spent += ms
	}
	sort.Float64s(times)
	return times[len(times)/2], len(times), valid
}

func main() {
	minRuns := flag.Int("min-runs", 5, "at least this many timed runs per file")
	minMs := flag.Float64("min-ms", 100, "at least this many ms of timed runs per file")
	warmMs := flag.Float64("warm-ms", 50, "ms of untimed runs per file first")
	maxRuns := flag.Int("max-runs", 100000, "at most this many timed runs per file")
	flag.Parse()
	out := json.NewEncoder(os.Stdout)
	for _, path := range flag.Args() {
		name := filepath.Base(path)
		switch filepath.Base(filepath.Dir(path)) {
		case "jepsen":
			events := parseJepsenLog(path)
			ms, runs, valid := timeCheck(etcdModel, events, *minRuns, *minMs, *warmMs, *maxRuns)
			out.Encode(figure{name, "etcd", ms, runs, valid})
		case "kv":
			events := parseKvLog(path)
			ms, runs, valid := timeCheck(kvModel, events, *minRuns, *minMs, *warmMs, *maxRuns)
			out.Encode(figure{name, "split", ms, runs, valid})
			ms, runs, valid = timeCheck(kvNoPartitionModel, events, *minRuns, *minMs, *warmMs, *maxRuns)
			out.Encode(figure{name, "whole", ms, runs, valid})
		default:
			fmt.Fprintf(os.Stderr, "porcupine-bench: %s: expected a file under jepsen/ or kv/\n", path)
			os.Exit(2)
		}
	}
}
