package voice

// ClipsDir is clipsDir for the external tests.
var ClipsDir = clipsDir
