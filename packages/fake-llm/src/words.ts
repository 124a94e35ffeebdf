/**
 * Vocabulary of the fake model: plain lowercase English words, no punctuation,
 * so a token never needs JSON escaping and word counts are unambiguous.
 * Changing this list changes every expected answer, so treat it as frozen.
 */
export const WORDS: readonly string[] = Object.freeze([
  'apple', 'river', 'stone', 'cloud', 'garden', 'window', 'bright', 'quiet', 'table', 'forest',
  'yellow', 'simple', 'paper', 'mountain', 'little', 'ocean', 'candle', 'market', 'silver', 'winter',
  'summer', 'morning', 'evening', 'kitchen', 'letter', 'music', 'orange', 'pencil', 'rabbit', 'saddle',
  'timber', 'valley', 'wagon', 'harbor', 'island', 'jacket', 'ladder', 'meadow', 'needle', 'pepper',
  'rocket', 'shadow', 'thunder', 'velvet', 'whisper', 'anchor', 'basket', 'button', 'castle', 'copper',
  'desert', 'engine', 'feather', 'gentle', 'hollow', 'lantern', 'marble', 'nickel', 'pillow', 'puzzle',
  'ribbon', 'spring', 'tunnel', 'violet', 'wander', 'bridge', 'cotton', 'dragon', 'falcon', 'ginger',
  'honey', 'kettle', 'lemon', 'mirror', 'novel', 'orchard', 'planet', 'rhythm', 'sunset', 'travel',
  'border', 'carpet', 'circle', 'coffee', 'dinner', 'garage', 'hammer', 'legend', 'mellow', 'office',
  'parade', 'pocket', 'silent', 'spider', 'sugar', 'tender', 'voyage', 'walnut', 'yonder', 'zebra',
  'about', 'after', 'again', 'always', 'among', 'around', 'because', 'before', 'behind', 'below',
  'beside', 'between', 'beyond', 'during', 'easily', 'every', 'finally', 'often', 'perhaps', 'quickly',
  'rather', 'since', 'slowly', 'soon', 'still', 'together', 'toward', 'under', 'until', 'while',
  'build', 'carry', 'climb', 'dance', 'dream', 'drift', 'follow', 'gather', 'listen', 'notice',
  'open', 'paint', 'reach', 'remember', 'return', 'shine', 'sing', 'smile', 'wonder', 'watch',
  'the', 'a', 'and', 'of', 'to', 'in', 'on', 'with', 'for', 'from',
  'by', 'over', 'near', 'into', 'is', 'was', 'are', 'were', 'has', 'had',
  'calm', 'clear', 'cold', 'deep', 'early', 'fair', 'fresh', 'green', 'happy', 'kind',
  'large', 'late', 'light', 'long', 'new', 'old', 'proud', 'quick', 'round', 'small',
  'soft', 'strong', 'sweet', 'tall', 'warm', 'wide', 'wild', 'wise', 'young', 'brave',
]);
