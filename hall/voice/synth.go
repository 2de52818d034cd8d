package voice

import "citizenhome/speech"

// Synthesize writes every clip of the languages (both when none is given) into dir as
// {dir}/{lang}/{word}.wav, replacing those already there, atomically clip by clip (see
// speech.Synthesize). espeak-ng missing from PATH is CodeNoEngine; a run that fails or writes an
// unusable clip is CodeSynthesis naming the clip (the clips before it are kept). Unknown
// languages are CodeInvalid.
func Synthesize(dir string, langs ...string) error {
	clips, err := Clips(langs...)
	if err != nil {
		return err
	}
	return speech.Synthesize(dir, clips)
}

// Missing lists the clips of the languages (both when none is given) that dir does not hold, in
// Clips' order: halld synthesises when it is not empty. Unknown languages are CodeInvalid.
func Missing(dir string, langs ...string) ([]string, error) {
	clips, err := Clips(langs...)
	if err != nil {
		return nil, err
	}
	return speech.Missing(dir, clips)
}
