export { Counter, Histogram, labelValue, labels, secondsSince } from './exposition';
