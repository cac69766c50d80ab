/**
 * Function words the lexical embedder leaves out of the vector: they shape a sentence without
 * naming its topic. Negations and question words are deliberately absent (they change meaning).
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  `a an the and or but if then so than too very just also really quite
  i me my mine myself we us our ours ourselves you your yours yourself yourselves
  he him his himself she her hers herself it its itself they them their theirs themselves one someone
  this that these those there here
  am is are was were be been being have has had having do does did doing done
  will would shall should can could may might must
  of at by for with about to from in on into onto upon as per via
  some any each every all both either such own same other another
  please thanks thank hi hello hey kindly
  get got getting gets go going goes went`
    .split(/\s+/)
    .filter(Boolean),
);
