package porcupine

// Not part of Porcupine's checker: the one type checker.go needs from Porcupine's visualization.go
// (v1.3.0), copied as it is there, so the bench need not carry the HTML visualization.

// Annotation is from Porcupine's visualization.go.
type Annotation struct {
	ClientId        int
	Tag             string
	Start           int64
	End             int64
	Description     string
	Details         string
	TextColor       string
	BackgroundColor string
	_               struct{} // disallow positional literals, for extensibility
}
