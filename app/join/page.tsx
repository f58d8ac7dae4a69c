'use client';
// /join: a learner types the code their teacher reads out (public: no token needed).
import { JoinForm } from '@/components/classroom/JoinForm';

export default function JoinPage() {
  return <JoinForm />;
}
